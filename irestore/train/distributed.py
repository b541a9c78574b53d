"""Multi-process training under ``torchrun``: one process per CPU socket or GPU, gradients averaged
by DistributedDataParallel. gloo on CPU, nccl on CUDA. Without ``torchrun`` everything here is a
no-op and the world has one rank.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Only the main rank logs, validates and writes files."""
        return self.rank == 0


def init_world(device_name: str) -> tuple[World, torch.device]:
    """Read torchrun's variables, pick this rank's device and join the process group if there is one."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    world = World(int(os.environ.get("RANK", "0")), size, int(os.environ.get("LOCAL_RANK", "0"))) if size > 1 else World()
    if device_name == "cuda" or (device_name == "auto" and torch.cuda.is_available()):
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if world.size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return world, device


def close_world(world: World) -> None:
    if world.size > 1 and dist.is_initialized():
        dist.destroy_process_group()


def agree(values: list[float], world: World, device: torch.device) -> list[float]:
    """Sum small per-rank numbers over all ranks (loss, stop flags) in one collective."""
    if world.size == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def barrier(world: World) -> None:
    if world.size > 1:
        dist.barrier()
