"""Run a sequence model on some positions only: move them together, run, put them back.

The paper's encoder sees only visible frames; packing them to the front of each row makes
the work proportional to what is visible, not to the sequence length.
"""
from __future__ import annotations

import torch


def pack(x, keep):
    """Move the kept positions of each row to the front.

    x (B, T, D), keep (B, T) bool -> packed (B, L, D), packed_keep (B, L), order (B, L) with
    L the largest kept count; `unpack` puts them back."""
    L = max(int(keep.sum(dim=1).max()), 1)
    order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)[:, :L]
    packed = x.gather(1, order[..., None].expand(-1, -1, x.shape[-1]))
    return packed, keep.gather(1, order), order


def unpack(packed, packed_keep, order, length: int):
    """Inverse of `pack`: (B, L, D) -> (B, T, D), zeros where nothing was kept."""
    B, L, D = packed.shape
    out = packed.new_zeros(B, length, D)
    return out.scatter(1, order[..., None].expand(-1, -1, D), packed * packed_keep[..., None].to(packed.dtype))


def run_packed(fn, x, keep):
    """fn(x, keep) -> same shape, computed on the kept positions only (zeros elsewhere).
    x (B, T, D), keep (B, T) bool; fn takes (B, L, D) and a (B, L) bool mask."""
    packed, packed_keep, order = pack(x, keep)
    return unpack(fn(packed, packed_keep), packed_keep, order, x.shape[1])
