"""One engine change, timed: the same weights through an older revision's engine and this checkout's, interleaved.

This machine is shared and its speed drifts by 20-30% within minutes, so an engine change is only
trusted as a ratio measured in one sitting, the two engines alternating in fresh processes on the
same weights (docs/speed.md). Each timing is one ``irestore bench`` case (whole image, median of
``--calls`` runs) run with the irestore of its engine; the older revision is checked out into a
temporary git worktree, and weights are always read from this checkout, so both load the same files
(and the same manifest: an older engine ignores what it does not know). ``--tile auto`` times each
engine's own plan for the photo (tiles, statistics passes) instead of the whole image, and each
cell also gives the run's peak RSS:

    python benchmarks/engine_ab.py 5e634d0 sr-x4 runs/sr4-deep6.safetensors --precision bf16 --rounds 3
    python benchmarks/engine_ab.py HEAD deblur --precision auto --megapixels 12 --tile auto --calls 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def time_once(engine: Path, spec: str, precision: str, threads: int, megapixels: float, calls: int, tile: str = "0") -> dict:
    """The ``irestore bench`` row (MP/s of the median call, peak RSS, plan) run with the irestore in ``engine``."""
    env = dict(os.environ, PYTHONPATH=str(engine), IRESTORE_WEIGHTS=str(ROOT / "weights"))
    command = [sys.executable, "-m", "irestore", "bench", "-m", spec, "--sizes", str(megapixels), "--threads", str(threads)]
    command += [] if tile == "auto" else ["--tile", tile]
    command += ["--precision", precision, "--repeat", str(calls), "--no-ensemble", "--no-onnx", "--format", "json"]
    out = subprocess.run(command, cwd=engine, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def _cell(rows: list[dict]) -> str:
    plans = {str(r.get("tiles", "whole")) for r in rows}
    speeds = " / ".join(f"{r['mp_per_s']:.2f}" for r in rows)
    memory = " / ".join(f"{r['peak_rss_mb']:,}" for r in rows)
    return f"{speeds} MP/s, {memory} MB ({'; '.join(sorted(plans))})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("revision", help="the older engine: any git revision of this repository")
    parser.add_argument("models", nargs="+", help="release names or .safetensors files (paths relative to this checkout)")
    parser.add_argument("--precision", default="bf16")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--megapixels", type=float, default=1.0)
    parser.add_argument("--calls", type=int, default=5, help="timed calls per process (the median counts)")
    parser.add_argument("--rounds", type=int, default=2, help="old/new alternations per model and precision")
    parser.add_argument("--tile", default="0", help="0 (whole image, the default), a tile size, or auto (each engine's own plan)")
    args = parser.parse_args(argv)

    specs = [str((ROOT / m).resolve()) if m.endswith(".safetensors") else m for m in args.models]
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old), args.revision], check=True)
        try:
            print("| model | precision | old: MP/s, peak RSS | new: MP/s, peak RSS | new / old MP/s |")
            print("|---|---|---|---|---|")
            for model, spec in zip(args.models, specs):
                for precision in args.precision.split(","):
                    rows = {"old": [], "new": []}
                    for _ in range(args.rounds):
                        for name, engine in (("old", old), ("new", ROOT)):
                            rows[name].append(time_once(engine, spec, precision, args.threads, args.megapixels, args.calls, args.tile))
                    ratio = statistics.mean(r["mp_per_s"] for r in rows["new"]) / statistics.mean(r["mp_per_s"] for r in rows["old"])
                    print(f"| {model} | {precision} | {_cell(rows['old'])} | {_cell(rows['new'])} | {ratio:.2f} |", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)


if __name__ == "__main__":
    main()
