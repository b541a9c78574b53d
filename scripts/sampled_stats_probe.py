"""Probe: can the statistics pass look at a sample of the photo instead of all of it?

deblur's channel-gate pools need one statistics pass on a 12 MP photo (docs/speed.md), which
doubles its cost. The pools carry image-wide information (one blur per photo), so a spatially
even sample of the photo may estimate them nearly as well as the whole. For each sampling plan
(``CxR:side[:p][:r2]``: cells, each holding one centred window of ``side`` times the cell's side;
``p`` replays the running estimate in each next window, ``r2`` runs the sample twice), this collects
the pools over the windows' cores, replays them in the output pass over the default tiles, and
prints the agreement with the whole-image output and the area the statistics pass ran over.

    python scripts/sampled_stats_probe.py deblur --photos 0 --plans 2x2:0.6,3x3:0.5,4x3:0.45,6x4:0.4
    python scripts/sampled_stats_probe.py deblur --photos 0 --plans 2x2:0.6:p,3x3:0.5:p,4x3:0.45:p,4x3:0.35:r2,2x2:0.45:r2

The 12 MP crops are multiples of every release's size multiple, so no padding is involved.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from irestore.engine.calibrate import agreement_db
from irestore.engine.device import autocast
from irestore.engine.restorer import Restorer
from irestore.engine.tiling import tiled_forward
from irestore.models.zoo import load_model, read_manifest, weights_dir
from irestore.nn.global_stats import StatsContext
from irestore.train.data import data_root

MARGIN = 64


def windows(h: int, w: int, cols: int, rows: int, side: float, multiple: int) -> list[tuple[int, int, int, int, tuple[int, int, int, int]]]:
    """(y0, x0, height, width, core) of one centred window per cell; cores leave ``MARGIN`` inside the image."""
    out = []
    for r in range(rows):
        for c in range(cols):
            cy0, cy1, cx0, cx1 = h * r // rows, h * (r + 1) // rows, w * c // cols, w * (c + 1) // cols
            wh, ww = round((cy1 - cy0) * side) + 2 * MARGIN, round((cx1 - cx0) * side) + 2 * MARGIN
            wh, ww = min(h, wh - wh % multiple), min(w, ww - ww % multiple)
            y0 = max(0, min(h - wh, (cy0 + cy1 - wh) // 2 // multiple * multiple))
            x0 = max(0, min(w - ww, (cx0 + cx1 - ww) // 2 // multiple * multiple))
            top, left = (0 if y0 == 0 else MARGIN), (0 if x0 == 0 else MARGIN)
            bottom, right = (wh if y0 + wh == h else wh - MARGIN), (ww if x0 + ww == w else ww - MARGIN)
            out.append((y0, x0, wh, ww, (top, bottom, left, right)))
    return out


@torch.inference_mode()
def restore_sampled(restorer: Restorer, img: np.ndarray, plan: list, dtype: torch.dtype, *, progressive: bool = False, rounds: int = 1) -> tuple[np.ndarray, float]:
    """The photo restored over the default tiles with pools collected over ``plan``; and the seconds the collection took."""
    model = restorer.model.forward_features
    x = torch.from_numpy(img).permute(2, 0, 1)[None].contiguous(memory_format=torch.channels_last)
    h, w = img.shape[:2]
    ctx = StatsContext(mode="collect")
    start = time.perf_counter()
    with autocast(restorer.device, dtype):
        for round_ in range(rounds):
            if round_:
                ctx = ctx.finish()
            for y0, x0, wh, ww, core in plan:
                ctx.core, ctx.tile_size = core, (wh, ww)
                with ctx:
                    model(x[..., y0 : y0 + wh, x0 : x0 + ww])
                if progressive:
                    ctx.mode, ctx.means = "replay", {k: ctx.sums[k] / ctx.counts[k] for k in ctx.sums}
        sample_s = time.perf_counter() - start
        replay = ctx.finish()
        replay.collect = False

        def replayed(tile: torch.Tensor) -> torch.Tensor:
            with replay:
                return model(tile)

        out = tiled_forward(replayed, x, tile=restorer.tile_for(h, w), overlap=restorer.overlap, multiple=restorer.config.multiple, stats_passes=0)
    return out[0].permute(1, 2, 0).clamp(0, 1).numpy(), sample_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--plans", default="2x2:0.6,3x3:0.5,4x3:0.5")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache", default="runs/sampled_stats_cache")
    parser.add_argument("--precision", default="fp32")
    parser.add_argument("--photos", default="0,1,2")
    args = parser.parse_args()
    import calibrate_tiling  # the 12 MP photos it calibrates deblur on; a sibling script

    torch.set_num_threads(args.threads)
    entry = read_manifest(weights_dir())["models"][args.name]
    model = load_model(args.name).model
    photos = calibrate_tiling.inputs(args.name, entry, data_root(""), full_size=True)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    restorer = Restorer(model, precision=args.precision)
    for n, img in enumerate(photos):
        if str(n) not in args.photos.split(","):
            continue
        ref_file = cache / f"{args.name}-{n}-{args.precision}.npy"
        if not ref_file.exists():
            np.save(ref_file, Restorer(model, tile=0, precision=args.precision)(img))
        whole = np.load(ref_file)
        h, w = img.shape[:2]
        for spec in ["full"] + args.plans.split(","):
            flags = spec.split(":")[2:]
            progressive, rounds = "p" in flags, 2 if "r2" in flags else 1
            if spec == "full":
                grid = restorer.grid_for(h, w)
                plan = [(y0, x0, *grid.tile_size, grid.core(i, j)) for i, j, y0, x0 in grid]
            else:
                cells, side = spec.split(":")[:2]
                cols, rows = (int(v) for v in cells.split("x"))
                plan = windows(h, w, cols, rows, float(side), restorer.config.multiple)
            area = sum(wh * ww for _, _, wh, ww, _ in plan) / (h * w)
            out, sample_s = restore_sampled(restorer, img, plan, restorer.dtype, progressive=progressive, rounds=rounds)
            area *= rounds
            print(f"photo {n} {spec:>8}: statistics over {area:.2f} of the photo ({len(plan)} windows, {sample_s:.1f} s), agreement {agreement_db(out, whole):.2f} dB", flush=True)


if __name__ == "__main__":
    main()
