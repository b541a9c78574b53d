"""Release-speed check for the ablation's candidates: MP/s on a 1-megapixel photo with 2 threads.

The release target is >= 0.5 MP/s on a 1 MP photo on 2 cores. Weights do not change the speed, so
random ones are used. Configurations take turns through the inference engine (whole image: 1 MP
fits the default memory budget, so no statistics passes) and each keeps its best round, so load
from other processes spreads over all of them. Needs a quiet machine to mean anything.

    python scripts/ablation_speed.py [--threads 2] [--side 1024] [--rounds 3]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from ablation import interleaved_best_seconds
from irestore.engine import Restorer
from irestore.models import build_model

CANDIDATES = [
    {"mixer": "conv", "norm": "iln", "skip": "1"},
    {"mixer": "conv", "norm": "ln", "skip": "1"},
    {"mixer": "attn", "norm": "ln", "skip": "1"},
    {"mixer": "attn", "norm": "iln", "skip": "1"},
    {"mixer": "csattn", "norm": "ln", "skip": "1"},
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    image = np.random.default_rng(0).random((args.side, args.side, 3), dtype=np.float32)
    restorers = {"/".join(c.values()): Restorer(build_model("small", **c), tile=0, device="cpu") for c in CANDIDATES}
    best = interleaved_best_seconds({n: (lambda restore=restore: restore(image)) for n, restore in restorers.items()}, args.rounds + 1)
    print(f"| model (mixer/norm/skip) | MP/s, {args.side}x{args.side}, {args.threads} threads, whole image |")
    print("|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {args.side * args.side / 1e6 / seconds:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
