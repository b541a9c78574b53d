"""How fast one CPU thread makes training samples, per release config.

A GPU run is data-bound only if its DataLoader workers cannot keep up: with W workers each making
a sample in t seconds, at most W / (t * batch) steps/s. Comparing that ceiling with the step rate in
a run's ``log.jsonl`` tells which side sets the pace (docs/speed.md, "GPU").

    python benchmarks/patch_rate.py --patch 128 --batch 32 --workers 14
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

from irestore.train.config import load_config
from irestore.train.data import data_root, train_dataset


def seconds_per_sample(config: Path, patch: int, count: int) -> float:
    cfg = load_config(config)
    dataset = train_dataset(cfg, data_root(cfg.data_root))
    dataset[(0, patch)]  # caches, lazy imports
    start = time.perf_counter()
    for i in range(1, count + 1):
        dataset[(i, patch)]
    return (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="*", type=Path, default=sorted(Path("configs").glob("*.toml")))
    parser.add_argument("--patch", type=int, default=128)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--workers", type=int, default=14)
    parser.add_argument("--count", type=int, default=200, help="samples timed per config")
    args = parser.parse_args()
    torch.set_num_threads(1)

    table = Table(title=f"training samples of {args.patch} px, one thread")
    for column in ("config", "ms / sample", f"steps/s ceiling ({args.workers} workers, batch {args.batch})"):
        table.add_column(column, justify="left" if column == "config" else "right")
    for config in args.configs:
        seconds = seconds_per_sample(config, args.patch, args.count)
        table.add_row(config.stem, f"{seconds * 1e3:.1f}", f"{args.workers / (seconds * args.batch):.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
