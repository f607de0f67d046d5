"""Release checkpoints: safetensors weights + a JSON config with the class list.

    RELEASE/
      model.safetensors   the classifier's tensors
      config.json         {"format": "masa-classifier", "version": 1, "model": ModelConfig,
                           "normalise": NormaliseConfig, "num_frames", "sampling", "classes",
                           "trained_parts": {part: share of training frames with it}}

Loading never unpickles anything. `load` also accepts a fine-tuning run directory (its
`release/`) or the .safetensors file itself.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from masa import config as cfgmod
from masa.files import temp_dir
from masa.model.registry import build_classifier
from masa.train.rundir import run_kind

FORMAT = "masa-classifier"


def save(path: Path | str, model: torch.nn.Module, cfg: cfgmod.Config, classes: list[str],
         trained_parts: dict[str, float] | None = None):
    """Write the release folder atomically (temporary folder, then rename). `trained_parts`: the
    share of training frames with each part, so that prediction can warn about inputs without it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_dir(path.parent, path.name)
    try:
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(tmp / "model.safetensors"))
        meta = {
            "format": FORMAT, "version": 1, "model": cfgmod.to_dict(cfg.model), "normalise": cfgmod.to_dict(cfg.normalise),
            "num_frames": cfg.finetune.num_frames, "sampling": cfg.finetune.sampling, "classes": list(classes),
            "trained_parts": trained_parts or {},
        }
        (tmp / "config.json").write_text(json.dumps(meta, indent=2))
    except BaseException:  # a full disk: the previous release stays, no temporary folder is left
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        shutil.rmtree(path)
    os.replace(tmp, path)


def locate(path: Path | str) -> Path:
    path = Path(path)
    if path.suffix == ".safetensors":
        return path.parent
    if (path / "model.safetensors").exists():
        return path
    if (path / "release" / "model.safetensors").exists():
        return path / "release"
    if run_kind(path) == "pretrain":
        raise ValueError(f"{path} is a pre-training run: it has an encoder but no classifier; "
                         f"fine-tune it first (masa finetune --init {path} ...) and give that run")
    raise FileNotFoundError(f"{path}: no model.safetensors here or in {path / 'release'}; "
                            "give a release folder or a fine-tuning run directory")


def load(path: Path | str, device="cpu") -> tuple[torch.nn.Module, dict]:
    """-> (classifier in eval mode, its config.json as a dict with `normalise` a NormaliseConfig)."""
    folder = locate(path)
    try:
        meta = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError):
        raise ValueError(f"{folder}/config.json is missing or not valid JSON: is this a masa release?") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{folder}/config.json is not a masa classifier release")
    try:
        model_cfg = cfgmod.from_dict(cfgmod.ModelConfig, meta["model"])
        model = build_classifier(model_cfg, num_classes=len(meta["classes"]))
        normalise = cfgmod.from_dict(cfgmod.NormaliseConfig, meta["normalise"])
    except (KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"{folder}/config.json is incomplete or malformed ({type(err).__name__}: {err}); "
                         "use the release folder as fine-tuning wrote it") from None
    try:
        weights = load_file(str(folder / "model.safetensors"), device=str(device))
    except Exception as err:  # safetensors' own error types: a cut-short or foreign file
        raise ValueError(f"{folder}/model.safetensors is damaged or cut short ({err})") from None
    try:
        model.load_state_dict(weights)
    except RuntimeError:
        raise ValueError(f"{folder}/model.safetensors does not fit its config.json (backbone {model_cfg.backbone}, "
                         f"size {model_cfg.size}, {len(meta['classes'])} classes): the files of two models "
                         "were mixed; use the release folder as fine-tuning wrote it") from None
    meta["normalise"] = normalise
    return model.to(device).eval(), meta
