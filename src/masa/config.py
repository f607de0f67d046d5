"""All settings in one place: dataclasses with defaults, presets (named in `masa.presets`) and
`key=value` overrides.

Each job takes one config object; the command line overrides any field with
`--set section.field=value`, type-checked against the default, and the resolved
config is saved next to the job's output.
"""
from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field

from masa.config_limits import check
from masa.presets import PRESETS


@dataclass
class NormaliseConfig:
    """Turning a raw record into training coordinates (spec §2.3-2.6).

    Paper vs authors' code: the paper truncates every joint's confidence at 0.4; the code uses
    0.5 for hands and no truncation for the body.
    """

    hand_conf_threshold: float = 0.4  # eps_c for hand joints (code: 0.5); applied when samples are read
    body_conf_threshold: float = 0.4  # eps_c for body joints (code: 0.0)
    crop_visible_conf: float = 0.1  # hand joints above this count as visible for the crop box
    crop_min_visible: int = 10  # at least this many visible joints, else the arm fallback
    crop_scale: float = 2.2  # box side = crop_scale * max(width, height) of the visible joints
    arm_fallback: bool = True  # box from shoulder/elbow/wrist when the hand itself is not seen
    arm_conf_threshold: float = 0.8  # code: 0.8 WLASL/MSASL, 0.5 NMFs-CSL/SLR500
    arm_bottom_margin: float = 0.07  # wrist must be above H*(1-margin) (code: 50 px; 0 disables)
    mirror_left_hand: bool = True  # x' = 256 - x' for the left hand so both hands look alike
    max_frames: int = 150  # longer videos are strided down to at most this many frames
    min_stride: int = 2  # stride used once a video exceeds max_frames
    drop_handless_frames: bool = True  # keep only frames where at least one hand got a box
    wrists_from_hands: bool = False  # at import: a body wrist the estimator missed takes its hand's wrist, so
    #                                  hands-only data (MediaPipe Hands) keeps where the hands are
    body_frame: str = "image"  # when read: image (paper: divided by the image size) | shoulders (centred on the
    #                            shoulders, scaled by shoulder width: the same for every signer and camera)
    fill_gaps: int = 0  # when read: a joint lost for at most this many frames between two frames that see
    #                     it is drawn on the straight line between them (0: off, the paper)


@dataclass
class SynthConfig:
    """The procedural sign corpus (`masa data synth`)."""

    num_classes: int = 20  # even: classes come in time-reversed pairs
    num_signers: int = 10
    repeats: int = 3  # samples per class and signer
    min_frames: int = 40
    max_frames: int = 80
    image_size: tuple[int, int] = (640, 480)
    val_signers: int = 2  # the last signers are held out: val, then test
    test_signers: int = 2
    jitter_px: float = 1.5  # estimator noise on body joints (hands scale with their size)
    drop_hand_prob: float = 0.04  # per frame, a hand goes undetected
    low_conf_prob: float = 0.05  # per joint and frame, a low confidence
    seed: int = 0


@dataclass
class ModelConfig:
    """Architecture choices (spec §4); widths come from the named size (masa.model.sizes)."""

    backbone: str = "masa"  # masa | gru | tcn (reference baselines; masa.model.registry lists them)
    size: str = "base"  # tiny | small | base
    encoder: str = "visible"  # visible: only frames with a visible part enter (paper); full: key masking (code)
    mask_stage: str = "drop"  # drop: masked parts never enter the embedding (MAE) | before: a token in their place
    #                           before the temporal convs | after: the token after them (code; leaks)
    positional: str = "sinusoidal"  # sinusoidal | none (code: none; order only from the temporal convs)
    part_embedding: str = "gcn"  # gcn: a graph network per part and frame (paper) | mlp: two linear layers
    part_norm: str = "batch"  # batch | layer: the MLP part embedding's normalisation (layer: per pose)
    hand_shape: bool = False  # the part MLP also reads each hand centred on its wrist and scaled by its palm
    velocity: bool = False  # the part MLP also reads each joint's step to the next frame (masa.model.velocity)
    pool: str = "parts"  # parts: hands and body pooled apart and summed (paper) | frames: whole frames, 3x wider
    relu_heads: bool = False  # motion heads end with ReLU (code: True; then only positive residuals)
    dropout: float = 0.1  # in the transformer
    drop_path: float = 0.0  # stochastic depth in the encoder's blocks: the last block's rate, 0 at the first (DeiT)
    embed_dropout: float = 0.25  # on every part token the embedding makes, per frame


@dataclass
class PretextConfig:
    """Targets and masks of the two pre-training views (spec §3)."""

    strategy: str = "motion-paper"  # motion-paper (§3.4) | motion-code (§3.3) | random
    target: str = "motion"  # motion: residuals x[t+k] - x[t]; joints: the static coordinates x[t]
    target_scale: str = "pixels"  # pixels: box pixels (paper) | sample: each part / the sample's RMS motion
    interval: int = 3  # k
    extra_intervals: tuple[int, ...] = ()  # multi-scale motion: more k predicted at once
    mask_ratio: float = 0.9  # alpha, share of the candidate frames masked, per part
    motion_threshold: float = 5.0  # eps_m in 256-unit box pixels (paper)
    moving_ratio: float = 0.5  # delta: share of a frame's valid joints that must move (paper)
    code_threshold: float = 3.0  # code rule: signed residual > this ...
    code_min_count: int = 2  # ... in at least this many coordinates of the part
    sa_mask_ratio: float = 0.5  # alpha_r of the SA view
    sa_view: str = "frames"  # frames: whole frames dropped (paper's temporal sample); parts: per part (code)
    # Both views' geometry, a new draw per sample and step (paper: none, the clip as stored): the
    # clip rotated, sheared, body-scaled and shifted as augment.* moves fine-tuning clips.
    rotate: float = 0.0  # degrees
    scale: float = 0.0
    shear: float = 0.0
    shift: float = 0.0  # box units
    # The SA view's own geometry, as augment.* does to fine-tuning clips (paper: none, both views
    # share it): a positive pair that differs in rotation, shear, body scale and position.
    sa_rotate: float = 0.0  # degrees
    sa_scale: float = 0.0
    sa_shear: float = 0.0
    sa_shift: float = 0.0  # box units
    # ... and its own timing: a random window of sa_crop..1 of the sample stretched over its length
    # (1 = off, the paper): a positive pair that differs in start, end and speed.
    sa_crop: float = 1.0


@dataclass
class PretrainConfig:
    """Optimisation of `masa pretrain` (spec §5-§6). Defaults: the paper."""

    epochs: int = 400
    batch_size: int = 64  # per process; the global batch is batch_size x world size
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = 1e-4
    warmup_epochs: float = 20.0
    schedule: str = "linear"  # linear: decay to 0 at the last epoch | steps: x lr_gamma at lr_milestones
    lr_milestones: tuple[int, ...] = (120, 220, 320, 370)
    lr_gamma: float = 0.5
    lr_per_epoch: bool = False  # code: the rate changes once per epoch, epoch 0 at lr 0
    motion_loss: str = "l2"  # l2: confidence-weighted squared error (paper) | l1: code's thresholded L1
    motion_loss_scale: float = 1.0  # code: 10
    motion_loss_min: float = 3.0  # l1 only: a coordinate counts where its signed residual > this (code: 3)
    ma_weight: float = 1.0  # 0 turns MA off (SA only)
    lambda_s: float = 0.05  # 0 turns SA off (MA only)
    lambda_ramp_epochs: float = 100.0  # lambda_s(e) = lambda_s * min(e / ramp, 1)
    queue_size: int = 6144  # K, a multiple of the global batch
    temperature: float = 0.07
    momentum: float = 0.996
    proj_dim: int = 128
    max_frames: int = 150  # longer samples keep their centre frames (stores already cap at 150)
    amp: str = "auto"  # auto (bf16 on a GPU that has it, else fp32) | bf16 | fp16 | none
    compile: bool = False  # torch.compile the model
    num_workers: int = 2
    seed: int = 42
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    threads: int = 0  # CPU threads for torch (0 = the free cores: the cores less the machine's load)
    checkpoint_every: int = 20  # epochs between kept checkpoints; the latest is always written
    grad_clip: float = 0.0  # clip the gradients' total norm to this before each step (0 = off, the paper)
    dropout: float | None = None  # the transformers' dropout while pre-training (None: model.dropout, the paper)
    max_steps: int = 0  # stop after this many optimiser steps in total (0 = run all epochs)
    log_every: int = 10  # steps between metric lines


@dataclass
class AugmentConfig:
    """Pose augmentation of training clips (masa.data.augment); the defaults change nothing."""

    rotate: float = 0.0  # degrees, uniform in +-rotate, whole skeleton
    scale: float = 0.0  # body scale factor in 1 +- scale (hand crops are scale-free already)
    shear: float = 0.0  # shear factor, uniform in +-shear
    shift: float = 0.0  # body translation, in box units (256 = the whole frame)
    mirror: float = 0.0  # probability of a left/right mirror (the hands swap roles)
    joint_drop: float = 0.0  # probability of losing each joint in each frame
    hand_drop: float = 0.0  # probability of losing a whole hand in each frame
    crop: float = 1.0  # temporal crop: a random window of 'crop' to 1 of the sample, then sampled (speed)


@dataclass
class FinetuneConfig:
    """`masa finetune` (spec §7). Defaults: the paper (SGD, lr 0.01, x0.1 every 20 epochs, 60 epochs)."""

    epochs: int = 60
    step_budget: int = 0  # at most this many optimiser steps, the schedule compressed to fit: a larger set gets fewer epochs (0 = off)
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    lr_milestones: tuple[int, ...] = (20, 40)
    lr_gamma: float = 0.1
    optimizer: str = "sgd"  # sgd | adamw
    encoder_lr_scale: float = 1.0  # the encoder learns at lr x this (< 1 keeps more of a pre-trained encoder)
    freeze_epochs: int = 0  # the encoder's weights stay fixed for this many first epochs (a linear probe first)
    # layer-wise rate decay (BEiT, MAE fine-tuning): of an encoder of L blocks, block i (1..L) learns at
    # lr x layer_decay^(L+1-i), the embedding at lr x layer_decay^(L+1), pooling and classifier at lr (1 = off)
    layer_decay: float = 1.0
    init_encoder: str = "online"  # which pre-trained encoder to start from: online (encoder_q) | momentum (its EMA)
    # a pre-trained start moved back toward the fresh weights a run from scratch with this seed starts from
    # (masa.train.starting_point): blend x pre-trained + (1 - blend) x fresh (1 = as pre-trained), and
    # the last reinit_blocks transformer blocks fresh; both act only on a pre-trained start
    init_blend: float = 1.0
    reinit_blocks: int = 0
    schedule: str = "steps"  # steps: x lr_gamma at lr_milestones | cosine: to 0 after warm-up
    warmup_epochs: float = 0.0
    num_frames: int = 32  # frames per sample after temporal sampling
    sampling: str = "segments"  # segments: random per segment in training, centres in testing | crop-resize (sister)
    hand_swap: bool = False  # swap the hands with p = 0.5 in training
    dropout: float = 0.0  # before the classifier
    label_smoothing: float = 0.0
    mix: str = "none"  # none | mixup | cutmix: each batch mixed with a shuffled copy of itself (masa.train.mixing)
    mix_alpha: float = 0.2  # the own share ~ Beta(mix_alpha, mix_alpha), one draw per batch
    grad_clip: float = 0.0  # clip the gradients' total norm to this before each step (0 = off)
    ema: float = 0.0  # validate and release a moving average of the weights, this decay per step (0 = off)
    # before each validation, batch-norm statistics recomputed over this many training clips,
    # unaugmented, for the weights at hand (masa.train.precise_bn; 0 = the running averages)
    precise_bn: int = 0
    labels_per_class: int = 0  # use only this many labelled training samples per class (0 = all)
    train_splits: tuple[str, ...] = ("train",)  # the paper trains WLASL on train,val
    val_split: str = "val"  # the best epoch by top-1 on this split is kept ("" = keep the last)
    amp: str = "auto"
    num_workers: int = 2
    seed: int = 0
    device: str = "auto"
    threads: int = 0  # CPU threads for torch (0 = the free cores: the cores less the machine's load)


@dataclass
class Config:
    normalise: NormaliseConfig = field(default_factory=NormaliseConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    pretext: PretextConfig = field(default_factory=PretextConfig)
    pretrain: PretrainConfig = field(default_factory=PretrainConfig)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)


def pretraining_model(cfg: Config) -> ModelConfig:
    """The model settings that pre-training builds: `model`, with `pretrain.dropout` in place of
    `model.dropout` where it is set. Fine-tuning always uses `model.dropout`."""
    if cfg.pretrain.dropout is None:
        return cfg.model
    return dataclasses.replace(cfg.model, dropout=cfg.pretrain.dropout)


def flatten(data: dict, prefix: str = "") -> list[str]:
    """A (partial) config dict, e.g. a run's config.json -> `key=value` overrides."""
    out = []
    for key, value in data.items():
        if isinstance(value, dict):
            out += flatten(value, f"{prefix}{key}.")
        elif isinstance(value, (list, tuple)):
            out.append(f"{prefix}{key}=" + ",".join(str(v) for v in value))
        else:
            out.append(f"{prefix}{key}={value}")
    return out


def resolve(presets: list[str] | None = None, overrides: list[str] | None = None, files: list[str] | None = None,
            base: Config | None = None) -> Config:
    """Defaults (or `base`, e.g. a run's saved config), then each named preset in order, then
    config files (JSON), then `key=value` overrides."""
    cfg = base if base is not None else Config()
    for name in presets or []:
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
        apply_overrides(cfg, PRESETS[name])
    for path in files or []:
        apply_overrides(cfg, flatten(json.loads(open(path).read())))
    return check(apply_overrides(cfg, overrides or []))


def _convert(text: str, target_type, where: str):
    origin = typing.get_origin(target_type)
    if target_type is bool:
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"{where}: expected true/false, got {text!r}")
    if target_type in (int, float, str):
        try:
            return target_type(text)
        except ValueError:
            raise ValueError(f"{where}: expected {target_type.__name__}, got {text!r}") from None
    if origin in (tuple, list):
        args = typing.get_args(target_type)
        parts = [p for p in text.replace("x", ",").strip("()[]").split(",") if p.strip()]
        item = args[0] if args else str
        return origin(_convert(p.strip(), item, where) for p in parts)
    if origin in (typing.Union, types.UnionType):  # Optional[X] / X | None
        args = [a for a in typing.get_args(target_type) if a is not type(None)]
        if text.lower() in ("none", "null"):
            return None
        return _convert(text, args[0], where)
    raise ValueError(f"{where}: cannot set a field of type {target_type}")


def apply_overrides(cfg, overrides: list[str]):
    """Apply `a.b=value` strings to a dataclass tree in place; unknown keys are errors."""
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"override {item!r} is not of the form key=value")
        key, text = item.split("=", 1)
        *path, name = key.strip().split(".")
        node = cfg
        for part in path:
            if not dataclasses.is_dataclass(node) or not hasattr(node, part):
                raise ValueError(f"unknown setting {key!r}")
            node = getattr(node, part)
        fields = {f.name: f for f in dataclasses.fields(node)} if dataclasses.is_dataclass(node) else {}
        if name not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise ValueError(f"unknown setting {key!r} (known here: {known})")
        hints = typing.get_type_hints(type(node))
        setattr(node, name, _convert(text.strip(), hints[name], key))
    return cfg


def to_dict(cfg) -> dict:
    return dataclasses.asdict(cfg)


# Settings renamed since they were first written, so that older runs and checkpoints still load:
# old name -> (new name, old value -> new value).
RENAMED = {"mask_before_tcn": ("mask_stage", lambda before: "before" if before else "after")}


def from_dict(cls, data: dict):
    """Rebuild a dataclass tree from `to_dict` output (unknown keys are errors)."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    names = {f.name for f in dataclasses.fields(cls)}
    for key, value in data.items():
        if key not in names and key in RENAMED:
            key, value = RENAMED[key][0], RENAMED[key][1](value)
        if key not in names:
            raise ValueError(f"unknown setting {key!r} for {cls.__name__}")
        t = hints[key]
        if dataclasses.is_dataclass(t):
            value = from_dict(t, value)
        elif typing.get_origin(t) is tuple:
            value = tuple(value)
        kwargs[key] = value
    return cls(**kwargs)


def dumps(cfg) -> str:
    return json.dumps(to_dict(cfg), indent=2)
