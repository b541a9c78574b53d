"""Where a model's inference time goes: PyTorch's operator profile of one whole-image restore.

Speed work starts from a profile, not a guess: on small-channel maps the elementwise and norm
kernels can cost as much as the convolutions (docs/speed.md). The model is a release name, a
checkpoint, or ``config:NAME[,key=value...]`` with random weights, as for ``irestore bench``:

    python benchmarks/profile_ops.py sr-x2 --precision bf16 --threads 1
    python benchmarks/profile_ops.py "config:small,task=sr,scale=2,enc_blocks=[],dec_blocks=[],heads=[1],width=32,mid_blocks=6,norm=none"
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from irestore.engine.benchmark import image_shape, load
from irestore.engine.restorer import Restorer


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--megapixels", type=float, default=1.0)
    parser.add_argument("--precision", default="bf16")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rows", type=int, default=12, help="operators listed, by their own time")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    model = load(args.model)
    h, w = image_shape(args.megapixels)
    img = np.random.default_rng(0).random((h, w, model.config.in_channels), dtype=np.float32)
    restore = Restorer(model, tile=0, precision=args.precision, stats_passes=0)
    restore(img)  # the first call faults in the heap; profile the second
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        restore(img)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
