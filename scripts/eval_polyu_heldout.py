"""Score denoisers on the whole PolyU_real photos that training held out (issue 37).

The real-pair recipe (``configs/finetune/denoise-real-pairs.toml``) never trains on the scenes its
``paired_holdout`` names (two per camera) and validates on crops of them; this scores the same scenes
whole (5-9 MP camera JPEGs) through ``irestore eval``'s custom-pairs layout, so the protocol is the
one of every other real-noise table (``real-srgb``). Extra arguments go to ``irestore eval``:

    python scripts/eval_polyu_heldout.py --model denoise-real -b identity
    python scripts/eval_polyu_heldout.py --weights runs/dr-a.safetensors
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from irestore.data_paths import data_roots
from irestore.train.config import read_config_file

RECIPE = Path(__file__).resolve().parents[1] / "configs" / "finetune" / "denoise-real-pairs.toml"


def held_out_pairs(recipe: Path = RECIPE) -> list[tuple[str, Path, Path]]:
    """(scene, noisy, mean) for every held-out scene of the recipe, from the first data root holding them."""
    cfg = read_config_file(recipe)
    noisy_dir, clean_dir = cfg["paired_dirs"]
    for root in data_roots(None):
        noisy, clean = root / noisy_dir, root / clean_dir
        if noisy.is_dir() and clean.is_dir():
            break
    else:
        raise SystemExit(f"{noisy_dir}: not found under {', '.join(map(str, data_roots(None)))}")
    out = []
    for scene in cfg["paired_holdout"]:
        inputs, targets = sorted(noisy.glob(f"{scene}_*")), sorted(clean.glob(f"{scene}_*"))
        if len(inputs) != 1 or len(targets) != 1:
            raise SystemExit(f"{scene}: expected one noisy and one mean image, found {len(inputs)} and {len(targets)}")
        out.append((scene, inputs[0], targets[0]))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "PolyU_heldout"
        for sub in ("input", "target"):
            (folder / sub).mkdir(parents=True)
        for scene, noisy, clean in held_out_pairs():
            (folder / "input" / f"{scene}{noisy.suffix}").symlink_to(noisy)
            (folder / "target" / f"{scene}{clean.suffix}").symlink_to(clean)
        command = [sys.executable, "-m", "irestore", "eval", str(folder), "--task", "denoise", "--preset", "real-srgb", *sys.argv[1:]]
        raise SystemExit(subprocess.run(command, check=False).returncode)


if __name__ == "__main__":
    main()
