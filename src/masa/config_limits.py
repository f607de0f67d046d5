"""The allowed values of every numeric and choice setting, and `check`, which refuses a config
outside them (`masa.config.resolve` runs it on every resolved config).

Ranges: "a..b" (inclusive), "a..<b", "a<..b", ">=a", ">a"; tuples are checked item by item.
Seeds, devices, sizes and backbones (registries) are checked where used.
"""
from __future__ import annotations

ALLOWED: dict[str, str | tuple[str, ...]] = {
    **{f"normalise.{k}": "0..1" for k in ("hand_conf_threshold", "body_conf_threshold", "crop_visible_conf",
                                          "arm_conf_threshold", "arm_bottom_margin")},
    "normalise.crop_min_visible": "1..21", "normalise.crop_scale": ">0", "normalise.max_frames": ">=1",
    "normalise.min_stride": ">=1", "normalise.body_frame": ("image", "shoulders"), "normalise.fill_gaps": ">=0",
    "synth.num_classes": ">=2", "synth.num_signers": ">=1", "synth.repeats": ">=1", "synth.min_frames": ">=2",
    "synth.max_frames": ">=2", "synth.image_size": ">0", "synth.val_signers": ">=0", "synth.test_signers": ">=0",
    "synth.jitter_px": ">=0", "synth.drop_hand_prob": "0..1", "synth.low_conf_prob": "0..1",
    "model.encoder": ("visible", "full"), "model.mask_stage": ("drop", "before", "after"),
    "model.positional": ("sinusoidal", "none"), "model.part_embedding": ("gcn", "mlp"),
    "model.part_norm": ("batch", "layer"),
    "model.pool": ("parts", "frames"), "model.dropout": "0..<1", "model.drop_path": "0..<1", "model.embed_dropout": "0..<1",
    "pretext.strategy": ("motion-paper", "motion-code", "random"), "pretext.target": ("motion", "joints"),
    "pretext.target_scale": ("pixels", "sample"),
    "pretext.interval": ">=1", "pretext.extra_intervals": ">=1", "pretext.mask_ratio": "0..<1",
    "pretext.motion_threshold": ">=0", "pretext.moving_ratio": "0..1", "pretext.code_threshold": ">=0",
    "pretext.code_min_count": ">=1", "pretext.sa_mask_ratio": "0..<1", "pretext.sa_view": ("frames", "parts"),
    **{f"pretext.{view}{k}": rule for view in ("", "sa_")  # the clip's geometry, then the SA view's own
       for k, rule in {"rotate": ">=0", "scale": "0..<1", "shear": ">=0", "shift": ">=0"}.items()},
    "pretext.sa_crop": "0<..1",
    "pretrain.epochs": ">=1", "pretrain.batch_size": ">=1", "pretrain.lr": ">0", "pretrain.betas": "0..<1",
    "pretrain.weight_decay": ">=0", "pretrain.warmup_epochs": ">=0", "pretrain.schedule": ("linear", "steps"),
    "pretrain.lr_milestones": ">=0", "pretrain.lr_gamma": ">0", "pretrain.motion_loss": ("l2", "l1"),
    "pretrain.motion_loss_scale": ">0", "pretrain.motion_loss_min": ">=0", "pretrain.ma_weight": ">=0", "pretrain.lambda_s": ">=0",
    "pretrain.lambda_ramp_epochs": ">=0", "pretrain.queue_size": ">=1", "pretrain.temperature": ">0",
    "pretrain.momentum": "0..1", "pretrain.proj_dim": ">=1", "pretrain.max_frames": ">=2",
    "pretrain.amp": ("auto", "bf16", "fp16", "none"), "pretrain.num_workers": ">=0",
    "pretrain.grad_clip": ">=0", "pretrain.dropout": "0..<1", "pretrain.checkpoint_every": ">=1", "pretrain.max_steps": ">=0", "pretrain.log_every": ">=1",
    "augment.rotate": "0..180", "augment.scale": "0..<1", "augment.shear": ">=0", "augment.shift": ">=0",
    **{f"augment.{k}": "0..1" for k in ("mirror", "joint_drop", "hand_drop")}, "augment.crop": "0<..1",
    "finetune.mix": ("none", "mixup", "cutmix"), "finetune.mix_alpha": ">0",
    "finetune.epochs": ">=1", "finetune.step_budget": ">=0", "finetune.batch_size": ">=1", "finetune.lr": ">0", "finetune.momentum": "0..<1",
    "finetune.weight_decay": ">=0", "finetune.lr_milestones": ">=0", "finetune.lr_gamma": ">0",
    "finetune.optimizer": ("sgd", "adamw"), "finetune.encoder_lr_scale": ">=0", "finetune.freeze_epochs": ">=0",
    "finetune.layer_decay": "0<..1", "finetune.init_blend": "0..1", "finetune.reinit_blocks": ">=0", "finetune.init_encoder": ("online", "momentum"), "finetune.schedule": ("steps", "cosine"),
    "finetune.warmup_epochs": ">=0", "finetune.num_frames": ">=1", "finetune.sampling": ("segments", "crop-resize"),
    "finetune.dropout": "0..<1", "finetune.label_smoothing": "0..<1", "finetune.grad_clip": ">=0", "finetune.ema": "0..<1", "finetune.precise_bn": ">=0", "finetune.labels_per_class": ">=0",
    "finetune.amp": ("auto", "bf16", "fp16", "none"), "finetune.num_workers": ">=0",
    "pretrain.threads": ">=0", "finetune.threads": ">=0",
}


def _within(value, rule: str) -> bool:
    if rule.startswith(">="):
        return value >= float(rule[2:])
    if rule.startswith(">"):
        return value > float(rule[1:])
    lo_open, hi_open = "<.." in rule, "..<" in rule
    lo, hi = (float(v) for v in rule.replace("<", "").split(".."))
    return (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)


def _describe(rule: str) -> str:
    if rule.startswith(">="):
        return f"at least {rule[2:]}"
    if rule.startswith(">"):
        return f"above {rule[1:]}"
    lo, hi = rule.replace("<", "").split("..")
    low = f"above {lo}" if "<.." in rule else f"at least {lo}"
    high = f"below {hi}" if "..<" in rule else f"at most {hi}"
    return f"{low} and {high}"


def check(cfg):
    """Refuse any setting of a `masa.config.Config` outside its allowed values (ALLOWED), naming
    it and the range; returns the config."""
    for key, rule in ALLOWED.items():
        section, name = key.split(".")
        value = getattr(getattr(cfg, section), name)
        if value is None:  # an optional setting left unset
            continue
        if isinstance(rule, tuple):
            if value not in rule:
                raise ValueError(f"{key}={value} is not allowed: choose one of {' | '.join(rule)}")
            continue
        for v in value if isinstance(value, (tuple, list)) else [value]:
            if not _within(v, rule):
                raise ValueError(f"{key}={v} is out of range: it must be {_describe(rule)}")
    if cfg.synth.max_frames < cfg.synth.min_frames:
        raise ValueError(f"synth.max_frames={cfg.synth.max_frames} is below synth.min_frames={cfg.synth.min_frames}")
    return cfg
