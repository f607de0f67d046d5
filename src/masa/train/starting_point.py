"""Where fine-tuning starts: a fresh classifier, or one whose encoder comes from a pre-training
run (its architecture adopted from the run), optionally moved part of the way back to a fresh
start (`finetune.init_blend`, `finetune.reinit_blocks`)."""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from masa import config as cfgmod
from masa import settings
from masa.model.registry import build_classifier
from masa.train import checkpoint

log = logging.getLogger(__name__)


def pretrained_state(init: Path | str) -> tuple[dict, dict]:
    """A pre-training run directory or checkpoint -> (model state dict, its config dict)."""
    path = Path(init)
    if path.is_dir():
        path = path / "checkpoints" / "last.pt"
    if not path.exists():
        raise FileNotFoundError(f"no pre-training checkpoint at {path}")
    state = checkpoint.load(path)
    if state.get("kind") != "masa-pretrain":
        raise ValueError(f"{path} is not a masa pre-training checkpoint")
    return state["model"], state["config"]


def from_scratch(init: str | None) -> bool:
    """No pre-trained weights: `--init none` (or no init at all)."""
    return not init or str(init).lower() == "none"


def build_classifier_for(cfg: cfgmod.Config, num_classes: int, init: str | None, explicit: set[str] = frozenset()):
    """-> (classifier, the config whose model and normalise sections match the weights): with
    `init`, a copy of `cfg` that adopts the pre-trained encoder's architecture (an explicit
    --set key, in `explicit`, that disagrees is refused)."""
    if not from_scratch(init):
        if cfg.model.backbone != "masa":
            raise ValueError(f"--init loads a MASA encoder; model.backbone={cfg.model.backbone} trains from scratch "
                             "(--init none)")
        state, pre_cfg = pretrained_state(init)
        cfg = settings.adopt_architecture(cfg, pre_cfg, explicit, str(init))
        model = build_classifier(cfg.model, num_classes, cfg.finetune.dropout)
        fc = cfg.finetune
        blended = fc.init_blend < 1 or fc.reinit_blocks > 0
        fresh = {k: v.clone() for k, v in model.encoder.state_dict().items()} if blended else None
        missing = model.load_encoder(state, fc.init_encoder)
        if missing:
            raise ValueError(f"pre-training checkpoint lacks encoder weights: {missing[:5]}")
        if blended:
            start_between(model.encoder, fresh, fc)
            log.info("starting from %s blended: finetune.init_blend=%g x pre-trained + %g x fresh weights, the last %d "
                     "transformer block(s) fresh", init, fc.init_blend, 1 - fc.init_blend, fc.reinit_blocks)
    else:
        if cfg.finetune.init_encoder != "online":  # it picks pre-trained weights: without them it would do nothing
            raise ValueError(f"finetune.init_encoder={cfg.finetune.init_encoder} picks a pre-trained encoder; "
                             "this run trains from scratch (--init none)")
        cfg = without_settings(cfg, PRETRAINED_SETTINGS, explicit, "pre-trained weights",
                               "this run trains from scratch (--init none)")
        model = build_classifier(cfg.model, num_classes, cfg.finetune.dropout)
    if getattr(model, "encoder", None) is None:
        cfg = without_settings(cfg, ENCODER_SETTINGS, explicit, "the MASA encoder",
                               f"model.backbone={cfg.model.backbone} has none")
    return model, cfg


def start_between(encoder, fresh: dict, fc: cfgmod.FinetuneConfig):
    """Move a pre-trained encoder part of the way back to its fresh initialisation `fresh`
    (the weights a run from scratch with this seed starts from): every tensor becomes
    init_blend x pre-trained + (1 - init_blend) x fresh (shrink and perturb, Ash & Adams 2020),
    and the last reinit_blocks transformer blocks start fresh (Zhang et al. 2021). init_blend=1 and
    reinit_blocks=0 change nothing."""
    depth = len(encoder.transformer.blocks)
    state = encoder.state_dict()
    for name, pre in state.items():
        block = name.split(".")[2] if name.startswith("transformer.blocks.") else None
        if block is not None and int(block) >= depth - fc.reinit_blocks:
            pre.copy_(fresh[name])
        elif pre.is_floating_point():
            pre.mul_(fc.init_blend).add_(fresh[name], alpha=1 - fc.init_blend)
        elif fc.init_blend < 0.5:  # a counter (batch norm's) comes from the side with the larger share
            pre.copy_(fresh[name])


ENCODER_SETTINGS = ("freeze_epochs", "encoder_lr_scale", "layer_decay")  # finetune.* that act on a MASA encoder only
PRETRAINED_SETTINGS = ("init_blend", "reinit_blocks")  # finetune.* that act on a pre-trained start only


def without_settings(cfg: cfgmod.Config, keys: tuple[str, ...], explicit: set[str], acts_on: str,
                     why_none: str) -> cfgmod.Config:
    """`cfg` for a run that has nothing for the finetune.`keys` to act on (`acts_on`: a baseline
    has no encoder, a run from scratch no pre-trained weights): a value that a preset gave is put
    back to its default and said so, so config.json records what ran; one the user set
    explicitly is refused, since it would silently do nothing."""
    default = cfgmod.FinetuneConfig()
    changed = {k: getattr(cfg.finetune, k) for k in keys if getattr(cfg.finetune, k) != getattr(default, k)}
    named = sorted(f"finetune.{k}" for k in changed if f"finetune.{k}" in explicit)
    if named:
        raise ValueError(f"{', '.join(named)} act(s) on {acts_on}; {why_none}")
    if changed:
        log.info("%s: %s of the preset not applied", why_none, ", ".join(f"finetune.{k}={v}" for k, v in changed.items()))
    return dataclasses.replace(cfg, finetune=dataclasses.replace(cfg.finetune, **{k: getattr(default, k) for k in changed}))
