"""`masa export`: a classifier that runs without this package (TorchScript or ONNX).

The exported model takes `frames` (B, N, 49, 3) — x, y in 256-unit boxes and confidence,
i.e. a store's frames after eps_c truncation and temporal sampling to N frames — and
returns class logits (B, C). A JSON file beside it lists the classes, N and the
normalisation settings the input must follow.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from masa import config as cfgmod
from masa import release
from masa.extras import require
from masa.inputs import model_inputs


class FramesToLogits(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, frames):
        return self.model(*model_inputs(frames[..., :2], frames[..., 2]))


def example_input(num_frames: int, batch: int = 2, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    frames = torch.rand(batch, num_frames, 49, 3, generator=g)
    frames[..., :2] *= 256
    return frames


def write_onnx(wrapper: FramesToLogits, example: torch.Tensor, out: Path | str):
    """ONNX graph of `wrapper` for inputs shaped like `example`, any batch size."""
    batch = torch.export.Dim("batch", min=1, max=4096)
    torch.onnx.export(wrapper, (example,), str(out), input_names=["frames"], output_names=["logits"],
                      dynamic_shapes={"frames": {0: batch}}, dynamo=True, external_data=False, verbose=False)


def export(checkpoint, fmt: str, out: Path | str | None = None) -> Path:
    model, meta = release.load(checkpoint)
    wrapper = FramesToLogits(model).eval()
    example = example_input(meta["num_frames"])
    suffix = {"torchscript": ".pt", "onnx": ".onnx"}.get(fmt)
    if suffix is None:
        raise ValueError(f"unknown export format {fmt!r} (onnx | torchscript)")
    if fmt == "onnx":
        require("onnx", "onnxscript", purpose="ONNX export")
    out = Path(out) if out else release.locate(checkpoint) / f"model{suffix}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        if fmt == "torchscript":
            torch.jit.save(torch.jit.trace(wrapper, example), str(out))
        else:
            write_onnx(wrapper, example, out)
    sidecar = {"input": "frames (B, N, 49, 3): x, y in 256-unit boxes, confidence (after eps_c)",
               "output": "logits (B, C)", "num_frames": meta["num_frames"], "sampling": meta["sampling"],
               "classes": meta["classes"], "normalise": cfgmod.to_dict(meta["normalise"])}
    out.with_suffix(".json").write_text(json.dumps(sidecar, indent=2))
    return out
