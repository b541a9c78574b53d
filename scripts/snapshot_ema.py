"""Save a running training's current EMA weights as a numbered candidate checkpoint.

A run keeps one checkpoint by the validation it started with (its best EMA). To choose later on
another validation (``scripts/score_validation.py``), the candidates have to exist: call this while
the run trains, e.g. every 7 minutes, and each call writes ``OUT/step-NNNNNN.safetensors`` (fp16)
from ``RUN/last.pt`` unless that step was already saved:

    while pgrep -f "name dr-mhc" >/dev/null; do sleep 420; python scripts/snapshot_ema.py runs/dr-mhc runs/dr-mhc-snap; done
"""

from __future__ import annotations

import argparse
from pathlib import Path

from irestore.train.export import export_state
from irestore.train.state import STATE_FILE, load_state


def snapshot(run_dir: Path, out_dir: Path) -> Path | None:
    """Write the running EMA of ``run_dir``'s last state; None if that step is already saved."""
    state = load_state(run_dir / STATE_FILE)
    out = out_dir / f"step-{state['step']:06d}.safetensors"
    if out.exists():
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    export_state(state, out, half=True, running=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    out = snapshot(args.run_dir, args.out_dir)
    print(out if out is not None else "already saved")


if __name__ == "__main__":
    main()
