"""Model sizes by name: `model.size=tiny|small|base`.

`base` is the paper's model: 512 per part, 1536 per frame, 3 encoder blocks of 8 heads,
FFN 2048, a 2-block decoder. Its classifier for C classes has 66,554,994 + 513 C
parameters (spec §12, without the authors' dead modules). `small` and `tiny` keep the
architecture and shrink the widths: `small` is the model to ship for CPUs (one 64-frame sign
in about 10 ms on one core, 4 ms exported to ONNX Runtime; docs/benchmarks.md), `tiny` is for
tests and the demo.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSize:
    c1: int  # first graph layers
    c2: int  # third graph layer
    part_dim: int  # per-part width; the transformer is 3x wider
    depth: int  # encoder blocks
    heads: int
    ffn: int
    decoder_depth: int
    proj_hidden: int  # projection head hidden width (output: pretrain.proj_dim)
    head_hidden: int  # motion head hidden width

    @property
    def dim(self) -> int:
        return 3 * self.part_dim


SIZES = {
    "tiny": ModelSize(c1=16, c2=32, part_dim=64, depth=2, heads=4, ffn=256, decoder_depth=1, proj_hidden=64, head_hidden=64),
    "small": ModelSize(c1=16, c2=32, part_dim=80, depth=3, heads=4, ffn=320, decoder_depth=1, proj_hidden=80, head_hidden=80),
    "base": ModelSize(c1=128, c2=256, part_dim=512, depth=3, heads=8, ffn=2048, decoder_depth=2, proj_hidden=512, head_hidden=256),
}


def get_size(name: str) -> ModelSize:
    if name not in SIZES:
        raise ValueError(f"unknown model size {name!r}; known: {', '.join(SIZES)}")
    return SIZES[name]
