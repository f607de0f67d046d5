"""The pre-training views on whole batches, on the training device (spec §3).

All functions take batched tensors and loop over nothing but the three parts:
  xy (B, T, 49, 2) in 256-unit box pixels, conf (B, T, 49) truncated at eps_c,
  valid (B, T) bool (real frame, not padding).
Masks are (B, T, 3) bool over (right hand, left hand, body); True = masked.
"""
from __future__ import annotations

import torch

from masa.data.augment import geometry_batch
from masa.inputs import PART_SLICES, part_sums


def shifted(x, valid, k: int):
    """x[t + k] where t + k is a real frame, else 0, and the mask of such t.
    x (B, T, ...) -> (B, T, ...), ok (B, T)."""
    B, T = valid.shape
    out = torch.zeros_like(x)
    ok = torch.zeros_like(valid)
    if k < T:
        out[:, : T - k] = x[:, k:]
        ok[:, : T - k] = valid[:, k:] & valid[:, : T - k]
    return out, ok


def motion_residuals(xy, conf, valid, k: int):
    """m_t = x_{t+k} - x_t (0 for the last k frames of each sample) and the weight
    c_t * c_{t+k}.   -> m (B, T, 49, 2), w (B, T, 49)."""
    ahead, ok = shifted(xy, valid, k)
    conf_ahead, _ = shifted(conf, valid, k)
    okf = ok[..., None].to(xy.dtype)
    return (ahead - xy) * okf[..., None], conf * conf_ahead * okf


def targets(xy, conf, valid, kind: str, intervals: tuple[int, ...], first=None):
    """Reconstruction targets and their per-joint weights.

    kind 'motion': residuals for each interval, concatenated -> (B, T, 49, 2n), w (B, T, 49, n);
    kind 'joints': the static coordinates -> (B, T, 49, 2), w = conf (B, T, 49, 1).
    `first`: the (m, w) of intervals[0] when already computed."""
    if kind == "joints":
        return xy * valid[..., None, None], (conf * valid[..., None])[..., None]
    if kind != "motion":
        raise ValueError(f"unknown target {kind!r} (motion | joints)")
    pairs = [first or motion_residuals(xy, conf, valid, intervals[0])]
    pairs += [motion_residuals(xy, conf, valid, k) for k in intervals[1:]]
    if len(pairs) == 1:
        return pairs[0][0], pairs[0][1][..., None]
    return torch.cat([m for m, _ in pairs], dim=-1), torch.stack([w for _, w in pairs], dim=-1)


def scaled_per_sample(target, weight, eps: float = 1.0):
    """Each sample's target, part by part, divided by its own confidence-weighted RMS over all
    frames, joints and coordinates (+ eps box pixels, so a still part is not blown up): motion
    in units of the signer's typical motion, so that a large, fast signer and a small, slow one
    weigh alike in the loss.   target (B, T, 49, C), weight (B, T, 49, C // 2) -> like target."""
    w = weight.repeat_interleave(target.shape[-1] // weight.shape[-1], dim=-1)
    scale = torch.ones_like(target)
    for s in PART_SLICES:
        t, ws = target[:, :, s], w[:, :, s]
        mean_sq = (ws * t**2).sum(dim=(1, 2, 3)) / ws.sum(dim=(1, 2, 3)).clamp_min(1e-6)
        scale[:, :, s] = (mean_sq.sqrt() + eps)[:, None, None, None]
    return target / scale


def candidates_code(m, valid, threshold: float = 3.0, min_count: int = 2):
    """Authors' rule (spec §3.3): per part, a frame is a candidate when at least `min_count`
    of its coordinates have a signed residual > threshold.   m (B, T, 49, 2) -> (B, T, 3)."""
    counts = part_sums((m > threshold).sum(dim=-1))  # coordinates over the threshold, per part
    return (counts >= min_count) & valid[..., None]


def candidates_paper(m, w, valid, motion_threshold: float = 5.0, moving_ratio: float = 0.5):
    """Paper's rule (spec §3.4, reconstructed): a joint moves when both ends are confident
    (w = c_t c_{t+k} > 0) and |m| > eps_m; a frame is a candidate for a part when at least
    `moving_ratio` of its valid joints move.   m (B, T, 49, 2), w (B, T, 49) -> (B, T, 3)."""
    ok = w > 0
    moving = ok & (m[..., 0].square() + m[..., 1].square() > motion_threshold**2)  # 5x a sum over the last axis of 2
    n_ok, n_moving = part_sums(ok), part_sums(moving)
    return (n_moving >= moving_ratio * n_ok) & (n_ok > 0) & valid[..., None]


def mask_candidates(candidates, ratio: float, generator: torch.Generator | None = None):
    """Mask floor(ratio * |S|) frames drawn at random from each (sample, part)'s candidate
    set S.   candidates (B, T, P) bool -> masked (B, T, P) bool, masked <= candidates."""
    noise = torch.rand(candidates.shape, generator=generator, device=candidates.device)
    noise = noise.masked_fill(~candidates, 2.0)  # non-candidates sort last
    order = noise.argsort(dim=1)  # frames of each (sample, part) in random order, candidates first
    quota = torch.floor(candidates.sum(dim=1, keepdim=True) * ratio + 1e-6)
    first = torch.arange(candidates.shape[1], device=candidates.device)[None, :, None] < quota
    return torch.zeros_like(candidates).scatter(1, order, first) & candidates


def random_mask(valid, ratio: float, parts: int = 3, per_part: bool = True, generator=None):
    """Random masking of floor(ratio * length) real frames, per part independently or the
    same frames for all parts (a random temporal sample).   -> (B, T, parts) bool."""
    cand = valid[..., None].expand(*valid.shape, parts if per_part else 1)
    masked = mask_candidates(cand, ratio, generator)
    return masked if per_part else masked.expand(*valid.shape, parts)


# Masking strategies by name (`pretext.strategy`): (m, w, valid, cfg) -> candidate frames (B, T, 3);
# the MA view masks `mask_ratio` of each part's candidates. A new strategy is one line here.
MASKINGS = {
    "motion-paper": lambda m, w, valid, cfg: candidates_paper(m, w, valid, cfg.motion_threshold, cfg.moving_ratio),
    "motion-code": lambda m, w, valid, cfg: candidates_code(m, valid, cfg.code_threshold, cfg.code_min_count),
    "random": lambda m, w, valid, cfg: valid[..., None].expand(*valid.shape, 3),  # every real frame
}


def ma_mask(m, w, valid, cfg, generator=None):
    """The MA view's mask by the configured strategy. m (B, T, 49, 2), w (B, T, 49)."""
    if cfg.strategy not in MASKINGS:
        raise ValueError(f"unknown masking strategy {cfg.strategy!r} ({' | '.join(MASKINGS)})")
    return mask_candidates(MASKINGS[cfg.strategy](m, w, valid, cfg), cfg.mask_ratio, generator)


def sa_mask(valid, cfg, generator=None):
    """The SA view: random masking, whole frames (paper) or each part on its own (code)."""
    if cfg.sa_view not in ("frames", "parts"):
        raise ValueError(f"unknown SA view {cfg.sa_view!r} (frames | parts)")
    return random_mask(valid, cfg.sa_mask_ratio, per_part=cfg.sa_view == "parts", generator=generator)


def random_geometry(xy, conf, rotate: float, scale: float, shear: float, shift: float,
                    mirrored_left: bool = True, generator=None):
    """Each sample rotated, sheared, body-scaled and shifted by its own draw from +-rotate (degrees),
    +-shear, 1 +- scale and +-shift (box units), as augment.geometry draws them; xy itself when
    all are 0 (and nothing is drawn).   xy (B, T, 49, 2), conf (B, T, 49) -> (B, T, 49, 2)"""
    if not (rotate or scale or shear or shift):
        return xy
    B = xy.shape[0]

    def uniform(*shape):  # in -1..1
        return torch.rand(*shape, generator=generator, device=xy.device) * 2 - 1

    angle = torch.deg2rad(uniform(B) * rotate)
    shear_, scale_, shift_ = uniform(B) * shear, 1 + uniform(B) * scale, uniform(B, 2) * shift
    return geometry_batch(xy, conf > 0, angle, shear_, scale_, shift_, mirrored_left)


def clip_geometry(xy, conf, cfg, mirrored_left: bool = True, generator=None):
    """The clip both views start from: moved by pretext.rotate/scale/shear/shift, xy itself at 0."""
    return random_geometry(xy, conf, cfg.rotate, cfg.scale, cfg.shear, cfg.shift, mirrored_left, generator)


def sa_geometry(xy, conf, cfg, mirrored_left: bool = True, generator=None):
    """The SA view's coordinates: moved again by its own draw from pretext.sa_*, or xy itself."""
    return random_geometry(xy, conf, cfg.sa_rotate, cfg.sa_scale, cfg.sa_shear, cfg.sa_shift, mirrored_left, generator)


def sa_time(xy, conf, valid, min_fraction: float, generator=None):
    """The SA view's own timing: each sample shows a random window of min_fraction..1 of its real
    frames, stretched over all of them (nearest frame), so that the two views of a positive pair
    differ in start, end and speed; padding and valid stay.   -> xy (B, T, 49, 2), conf (B, T, 49),
    or xy and conf themselves when min_fraction is 1."""
    if min_fraction >= 1.0:
        return xy, conf
    B, T = valid.shape
    length = valid.sum(dim=1).clamp_min(1).to(xy.dtype)  # real frames, a prefix of each sample
    u = torch.rand(B, generator=generator, device=xy.device)
    size = torch.minimum((length * (min_fraction + (1 - min_fraction) * u)).round().clamp_min(1), length)
    start = (torch.rand(B, generator=generator, device=xy.device) * (length - size + 1)).floor()
    stretch = (size - 1) / (length - 1).clamp_min(1)  # window frames per output frame, <= 1
    t = torch.arange(T, device=xy.device, dtype=xy.dtype)
    idx = (start[:, None] + (t[None] * stretch[:, None]).round()).clamp(max=length[:, None] - 1).long()
    real = valid[..., None]
    xy_t = torch.where(real[..., None], xy.gather(1, idx[..., None, None].expand_as(xy)), xy)
    return xy_t, torch.where(real, conf.gather(1, idx[..., None].expand_as(conf)), conf)


def sa_view(xy, conf, valid, cfg, mirrored_left: bool = True, generator=None):
    """The SA view's coordinates and confidences: its own timing (sa_time), then its own geometry
    (sa_geometry); xy and conf themselves in the paper's setting (both views share them)."""
    xy_t, conf_t = sa_time(xy, conf, valid, cfg.sa_crop, generator)
    return sa_geometry(xy_t, conf_t, cfg, mirrored_left, generator), conf_t


def make_views(xy, conf, valid, cfg, generator=None, with_sa: bool = True):
    """Everything a pre-training step needs from a batch, in one pass:
    targets (B, T, 49, C), weights (B, T, 49, C // 2), MA mask, SA mask (or None)."""
    first = motion_residuals(xy, conf, valid, cfg.interval)
    target, weight = targets(xy, conf, valid, cfg.target, (cfg.interval, *cfg.extra_intervals), first)
    if cfg.target_scale == "sample":
        target = scaled_per_sample(target, weight)
    elif cfg.target_scale != "pixels":
        raise ValueError(f"unknown target scale {cfg.target_scale!r} (pixels | sample)")
    ma = ma_mask(*first, valid, cfg, generator)
    sa = sa_mask(valid, cfg, generator) if with_sa else None
    return target, weight, ma, sa
