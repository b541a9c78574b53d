"""Probe: how much memory a U-Net release needs to restore a photo whole, by the dtype of its stream.

A 12 MP photo runs whole only if it plans inside the memory budget (docs/speed.md, issue 36). The
shipped inference form keeps a U-Net's full-resolution stream in float32 under bf16; this patches
it, for measurement only, into a bf16 stream (``bf16``: stem output cast down, last decoder fuse
under autocast, head in bf16 with its output cast up) and, with ``bf16-banded``, a stem computed in
bands of rows so its float32 output never exists whole. Run one mode per process, since peak RSS is
per process:

    for mode in float32 bf16 bf16-banded; do python scripts/stream_memory_probe.py deblur $mode --megapixels 12; done
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch
from torch import Tensor, nn

from irestore.engine import fuse
from irestore.engine.bands import autocast_dtype, band_rows
from irestore.engine.benchmark import image_shape
from irestore.engine.restorer import Restorer
from irestore.models.zoo import load_model

MODES = ("float32", "bf16", "bf16-banded")


class BandedLowPrecisionStem(nn.Module):
    """The float32 stem (:class:`~irestore.engine.fuse.Float32` around a 3x3 conv) band by band, each band cast down."""

    def __init__(self, stem: fuse.Float32) -> None:
        super().__init__()
        self.stem = stem

    def forward(self, x: Tensor) -> Tensor:
        conv, height = self.stem.module, x.shape[2]
        halo, rows, out = conv.padding[0], band_rows(x, conv.out_channels), None
        for r0 in range(0, height, rows):
            r1 = min(r0 + rows, height)
            a, b = max(r0 - halo, 0), min(r1 + halo, height)
            y = self.stem(x[:, :, a:b])[:, :, r0 - a : r1 - a]
            if out is None:
                shape = (x.shape[0], y.shape[1], height, x.shape[3])
                out = torch.empty(shape, dtype=autocast_dtype(x.device.type) or y.dtype, memory_format=torch.channels_last)
            out[:, :, r0:r1] = y
        return out


def patch(model: nn.Module, mode: str) -> None:
    if mode == "float32":
        return
    model.stem = fuse.LowPrecisionOut(model.stem) if mode == "bf16" else BandedLowPrecisionStem(model.stem)
    model.fuses[0] = model.fuses[0].module
    model.head = fuse.FloatOut(model.head.module)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a U-Net release name or checkpoint")
    parser.add_argument("mode", choices=MODES, help="the stream's dtype under bf16")
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    restore = Restorer(load_model(args.model).model, tile=0, precision="bf16", stats_passes=0, memory_mb=1e6)
    patch(restore.model, args.mode)
    h, w = image_shape(args.megapixels)
    img = np.random.default_rng(0).random((h, w, 3), dtype=np.float32)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    restore(img)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.model} {args.mode} {h}x{w}: {h * w / 1e6 / seconds:.2f} MP/s, peak RSS {peak:.0f} MB ({before:.0f} MB before the restore)")


if __name__ == "__main__":
    main()
