"""Average fine-tunes of one checkpoint into one checkpoint (irestore.models.average says why).

    python scripts/average_weights.py runs/a.safetensors runs/b.safetensors -o runs/ab.safetensors --half

Score the result like any candidate (scripts/release_eval.py --candidate) before shipping it.
"""

import argparse
import sys
from pathlib import Path

from irestore.checkpoint import save_checkpoint
from irestore.errors import IRestoreError
from irestore.models.average import average_checkpoints


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--half", action="store_true", help="store float16 tensors (as the release files do)")
    args = parser.parse_args()
    try:
        model, info = average_checkpoints(args.checkpoints)
        sha = save_checkpoint(args.output, model, info, half=args.half)
    except IRestoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.output}: {info['weights']}, {info['steps']} steps in all, sha256 {sha[:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
