"""Per-token LayerNorm on a 32-channel map: PyTorch's kernel against other ways to compute it.

A plain SR body spends about as long in its LayerNorms as in its convolutions (docs/speed.md), so
this asks whether any stock operator normalises 32-channel tokens faster. Each row is the median
of ``--repeat`` calls on ``--tokens`` tokens, with freed memory reused as the engine does (else
every call pays for faulting in fresh pages), and the largest deviation from float64 LayerNorm:

    python benchmarks/token_norm_kernels.py --threads 1
"""

from __future__ import annotations

import argparse
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from irestore.engine.allocator import reuse_freed_memory


def kernels(channels: int) -> dict[str, Callable[[Tensor], Tensor]]:
    ones = torch.full((channels, 1), 1.0 / channels, dtype=torch.bfloat16)

    def two_matmuls(x: Tensor) -> Tensor:
        """Means as products with a ones column (oneDNN), centred twice since a bf16 mean is rounded."""
        xc = x - x @ ones
        xc -= xc @ ones
        return xc.mul_(((xc * xc) @ ones).add_(1e-6).rsqrt_())

    return {
        "F.layer_norm, bf16": lambda x: F.layer_norm(x, (channels,), eps=1e-6),
        "F.layer_norm, cast to float32 first": lambda x: F.layer_norm(x.float(), (channels,), eps=1e-6),
        "two matmuls + elementwise, bf16": two_matmuls,
        "F.instance_norm over a (1, N, C) view": lambda x: F.instance_norm(x[None], eps=1e-6)[0],
        "copy (memory bound, for scale)": lambda x: x.clone(),
    }


def median_ms(fn: Callable[[], Tensor], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[repeat // 2] * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--channels", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    reuse_freed_memory()
    torch.manual_seed(0)
    x = (0.3 * torch.randn(args.tokens, args.channels) + torch.randn(args.tokens, 1)).bfloat16()
    reference = F.layer_norm(x.double(), (args.channels,), eps=1e-6)
    print(f"| way ({args.tokens:,} tokens x {args.channels} channels, {args.threads} thread(s)) | ms | max error |")
    print("|---|---:|---:|")
    for name, fn in kernels(args.channels).items():
        ms = median_ms(lambda: fn(x), args.repeat)
        error = "-" if name.startswith("copy") else f"{(fn(x).double() - reference).abs().max().item():.3f}"
        print(f"| {name} | {ms:.1f} | {error} |")


if __name__ == "__main__":
    main()
