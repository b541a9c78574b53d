"""Record a release checkpoint in weights/manifest.json with the scores of `irestore eval --json` runs.

    python scripts/register_release.py weights/denoise-real.safetensors \
        --eval runs/eval-denoise-real.json --command "irestore eval SIDD_samples --model denoise-real -b identity,bm3d"
"""

import argparse
import json
from pathlib import Path

from irestore.models.release import register


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", type=Path)
    parser.add_argument("--eval", type=Path, nargs="*", default=[], help="JSON files written by irestore eval --json")
    parser.add_argument("--command", action="append", default=[], help="the eval command that reproduces the scores")
    args = parser.parse_args()
    entry = register(args.weights, eval_files=args.eval, commands=args.command)
    print(json.dumps({k: entry[k] for k in ("file", "sha256", "task", "metrics")}, indent=2))


if __name__ == "__main__":
    main()
