"""All settings in one place: dataclasses with defaults, presets and `key=value` overrides.

Each job takes one config object; the command line overrides any field with
`--set section.field=value`, type-checked against the default, and the resolved
config is saved next to the job's output.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field


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
class Config:
    normalise: NormaliseConfig = field(default_factory=NormaliseConfig)
    synth: SynthConfig = field(default_factory=SynthConfig)


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
    if origin is typing.Union or str(origin) == "types.UnionType":
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


def from_dict(cls, data: dict):
    """Rebuild a dataclass tree from `to_dict` output (unknown keys are errors)."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    names = {f.name for f in dataclasses.fields(cls)}
    for key, value in data.items():
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
