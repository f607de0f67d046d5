"""Distributed helpers. In a single process every one of them is a no-op, so one code path
serves CPU, one GPU and `torchrun` runs on many GPUs and machines."""
from __future__ import annotations

import os

import torch
import torch.distributed as dist

from masa.device import pick


def setup(device: str = "auto") -> tuple[torch.device, int, int]:
    """Initialise the process group when launched by torchrun. -> (device, rank, world size)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick(device, local)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
    return dev, rank, world


def is_main() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


@torch.no_grad()
def all_gather(x: torch.Tensor) -> torch.Tensor:
    """Concatenate x (N, ...) from every rank along dim 0 (rank order)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return x
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.contiguous())
    return torch.cat(parts)


def all_reduce_mean(x: torch.Tensor) -> torch.Tensor:
    if not dist.is_initialized():
        return x
    x = x.clone()
    dist.all_reduce(x)
    return x / dist.get_world_size()


def barrier():
    if dist.is_initialized():
        dist.barrier()


def cleanup():
    if dist.is_initialized():
        dist.destroy_process_group()
