"""What a statistics pass costs against the output pass, on one tile of a release.

A collecting pass runs the network with the tile's own pools and also pools the tile's core; the
output pass replays the collected values and pools nothing. Their ratio is what a tiled photo
pays for whole-image statistics beyond the restore itself (docs/speed.md, deblur):

    python benchmarks/stats_pass_cost.py deblur --size 1520x2016 --threads 1 --precision bf16
"""

from __future__ import annotations

import argparse
import time

import torch

from irestore.engine.device import PRECISIONS, autocast
from irestore.engine.fuse import inference_model
from irestore.models.zoo import load_model
from irestore.nn.global_stats import StatsContext


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("--size", default="1520x2016", help="tile HxW")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--precision", default="bf16", choices=sorted(PRECISIONS))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    height, width = (int(v) for v in args.size.split("x"))
    model = inference_model(load_model(args.name).model).forward_features
    x = torch.rand(1, 3, height, width).contiguous(memory_format=torch.channels_last)
    margin = 16
    with torch.inference_mode(), autocast(torch.device("cpu"), PRECISIONS[args.precision]):
        for _ in range(args.repeat):
            collect = StatsContext(mode="collect", core=(margin, height - margin, margin, width - margin), tile_size=(height, width))
            start = time.perf_counter()
            with collect:
                model(x)
            collecting = time.perf_counter() - start
            replay = collect.finish()
            replay.collect = False
            start = time.perf_counter()
            with replay:
                model(x)
            output = time.perf_counter() - start
            start = time.perf_counter()
            model(x)
            whole = time.perf_counter() - start
            print(f"{args.name} {height}x{width} {args.precision}: collecting pass {collecting:.2f} s, output pass {output:.2f} s, own pools (a whole image) {whole:.2f} s")


if __name__ == "__main__":
    main()
