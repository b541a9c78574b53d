"""Probe: how much memory a U-Net release needs to restore a photo whole, and where it goes.

A 12 MP photo runs whole only if it plans inside the memory budget (docs/speed.md, "A 12 MP photo
whole", issue 36). One mode per process, since peak RSS is per process:

    python scripts/stream_memory_probe.py deblur low --megapixels 12            # as the engine runs it
    python scripts/stream_memory_probe.py deblur float32 --megapixels 12        # the float32 stream
    python scripts/stream_memory_probe.py deblur low --largest-band-mb 0 --heap   # bands and heap as in session 36
    python scripts/stream_memory_probe.py deblur low --recompute-above 64       # gated maps made twice in bands (dropped)
    python scripts/stream_memory_probe.py deblur low --trace                    # live heap and RSS after each stage
    python scripts/stream_memory_probe.py sr-x2 float32 --megapixels 1 --photos 5 --mapped   # what mapping costs a small photo

``low``: the full-resolution stream in bf16 (``low_precision_stream``); ``float32``: in float32 (a
plain SR body's stream is bf16 either way).
``--recompute-above MB``: a conv mixer whose gated map would exceed MB makes it twice in bands (once
for its channel pool, once for the projection) instead of keeping it whole: a variant measured and
not kept, patched in here only.
"""

from __future__ import annotations

import argparse
import ctypes
import resource
import time

import numpy as np
import torch
from torch import Tensor, nn

from irestore.engine import allocator, bands, fuse
from irestore.engine.benchmark import image_shape
from irestore.engine.restorer import Restorer
from irestore.models.zoo import load_model
from irestore.nn.global_stats import channel_mean

MODES = ("float32", "low")


def resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def live_heap_mb() -> float:
    """Bytes glibc has handed out and not had back (heap and mapped), in MB."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**20


def trace(model: nn.Module) -> None:
    """Print live heap, RSS and peak RSS after the stem, each level's stages and the head."""
    stages = ["stem", "middle", "head"] + [f"{kind}.{i}" for kind in ("encoders", "downs", "decoders") for i in range(len(model.downs))]
    named = dict(model.named_modules())
    for name in stages:
        named[name].register_forward_hook(lambda _m, _i, _o, name=name: print(f"  {name:12s} live {live_heap_mb():6.0f}  rss {resident_mb():6.0f}  peak {peak_mb():6.0f} MB", flush=True))


def recompute_gated_maps(above_mb: float) -> None:
    """Patch :class:`~irestore.engine.fuse.FusedResidual` so large gated maps are made twice in bands, never whole (whole images only)."""
    original = fuse.FusedResidual.forward

    def forward(self: fuse.FusedResidual, x: Tensor) -> Tensor:
        fn = self.fn
        hidden = fn.expand.weight.shape[0] // 2
        dtype = bands.autocast_dtype(x.device.type) or x.dtype
        if torch.is_grad_enabled() or not isinstance(fn, fuse.ConvMixer) or x.shape[0] * x.shape[2] * x.shape[3] * hidden * dtype.itemsize <= above_mb * 2**20:
            return original(self, x)
        expand, s = self._expansion(x)
        height, halo = x.shape[2], fn.dw.padding[0]
        rows = bands.band_rows(x, fn.expand.weight.shape[0])

        def gated_rows(r0: int, r1: int) -> Tensor:
            a, b = max(r0 - halo, 0), min(r1 + halo, height)
            return fuse._simple_gate(fn.dw(expand(x[:, :, a:b]))[:, :, r0 - a : r1 - a])

        total = 0
        for r0 in range(0, height, rows):
            band = gated_rows(r0, min(r0 + rows, height))
            total = total + channel_mean(band).double() * band.shape[2]
        pooled = (total / height).to(dtype)
        project = fuse._conv_then_scale(fn.project, fn.channel_gate.fc(pooled).float().flatten(1), s)
        return bands.add_by_rows(x, lambda r0, r1: project(gated_rows(r0, r1)), rows, halo=halo)

    fuse.FusedResidual.forward = forward


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a U-Net release name or checkpoint")
    parser.add_argument("mode", choices=MODES, help="the full-resolution stream's dtype under bf16")
    parser.add_argument("--megapixels", type=float, default=12.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--largest-band-mb", type=float, default=bands.LARGEST_BAND_BYTES / 2**20, help="bands larger than this only where MAX_BANDS needs them: 0 = no limit (the engine: %(default)g)")
    parser.add_argument("--heap", action="store_true", help="keep a whole photo's large maps and output on the heap")
    parser.add_argument("--mapped", action="store_true", help="map them however far the photo is from its budget")
    parser.add_argument("--recompute-above", type=float, default=None, metavar="MB", help="make gated maps larger than MB twice in bands")
    parser.add_argument("--trace", action="store_true", help="print memory after each stage")
    parser.add_argument("--photos", type=int, default=1, help="restore the photo this many times in one process (a folder of photos)")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    bands.LARGEST_BAND_BYTES = int(args.largest_band_mb * 2**20) or 1 << 62
    if args.heap:
        allocator.MAPPED_ABOVE = allocator._THRESHOLD
    if args.mapped:
        Restorer.maps_large_maps = lambda self, height, width: True
    if args.recompute_above is not None:
        recompute_gated_maps(args.recompute_above)
    restore = Restorer(load_model(args.model).model, tile=0, precision="bf16", stats_passes=0, low_precision_stream=args.mode == "low")
    if args.trace:
        trace(restore.model)
    h, w = image_shape(args.megapixels)
    img = np.random.default_rng(0).random((h, w, 3), dtype=np.float32)
    before = peak_mb()
    for _ in range(args.photos):
        start = time.perf_counter()
        restore(img)
        seconds = time.perf_counter() - start
        print(f"{args.model} {args.mode} {h}x{w}: {h * w / 1e6 / seconds:.2f} MP/s, peak RSS {peak_mb():.0f} MB ({before:.0f} MB before the first restore)", flush=True)


if __name__ == "__main__":
    main()
