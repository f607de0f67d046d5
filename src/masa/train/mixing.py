"""Mixing training samples (finetune.mix; beyond the paper: off by default, cutmix in the small-data preset).

Each batch is paired with a shuffled copy of itself and one share `keep` ~ Beta(a, a) is drawn
for it (Zhang et al., mixup); the loss is keep x CE(own label) + (1 - keep) x CE(partner's).
  * mixup: coordinates blended, keep x own + (1 - keep) x partner's, where a part is seen in
    both; where only one of the two shows it, that one's pose is taken whole, so a missing hand
    is never blended toward the corner of the box;
  * cutmix (in time): a run of round((1 - keep) x T) frames at a random start comes from the
    partner, frame for frame; keep is then the share of the sample's real frames it kept.
Both draw from the global torch generator, which checkpoints save, so a resumed run mixes alike.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from masa.inputs import joint_parts

MIXES = ("mixup", "cutmix")  # finetune.mix=none never calls mix_batch


def mix_batch(xy, present, valid, how: str, alpha: float):
    """xy (B, T, 49, 2), present (B, T, 3), valid (B, T) -> (xy, present, valid, partner (B,)
    long, keep (B,) float): the mixed batch, and for each sample its partner and own share."""
    if how not in MIXES:
        raise ValueError(f"unknown finetune.mix {how!r} ({' | '.join(MIXES)})")
    B, T = valid.shape
    partner = torch.randperm(B, device=valid.device)
    share = float(torch.distributions.Beta(alpha, alpha).sample())
    xy_b, present_b, valid_b = xy[partner], present[partner], valid[partner]
    if how == "mixup":
        parts = joint_parts(xy.device)
        mine = (present & valid[..., None])[..., parts]  # (B, T, 49)
        theirs = (present_b & valid_b[..., None])[..., parts]
        blended = share * xy + (1 - share) * xy_b
        out = torch.where((mine & theirs)[..., None], blended, torch.where(mine[..., None], xy, xy_b))
        return out, present | present_b, valid | valid_b, partner, torch.full((B,), share, device=xy.device)
    length = round((1 - share) * T)
    start = int(torch.randint(0, T - length + 1, ()))
    cut = torch.zeros(B, T, dtype=torch.bool, device=valid.device)
    cut[:, start:start + length] = True
    cut &= valid & valid_b  # only real frames change hands
    out = torch.where(cut[..., None, None], xy_b, xy)
    keep = 1 - cut.sum(1) / valid.sum(1).clamp(min=1)
    return out, torch.where(cut[..., None], present_b, present), valid, partner, keep.to(xy.dtype)


def mixed_cross_entropy(logits, labels, partner, keep, label_smoothing: float = 0.0):
    """keep x CE(own label) + (1 - keep) x CE(the partner's), averaged over the batch."""
    logits = logits.float()  # once, not per label (under amp they come in half precision)
    own, theirs = (F.cross_entropy(logits, y, label_smoothing=label_smoothing, reduction="none")
                   for y in (labels, labels[partner]))
    return (keep * own + (1 - keep) * theirs).mean()


def dominant_labels(labels, partner, keep):
    """Each mixed sample's label with the larger share (its own on a tie): what a train top-1
    counts as a hit, since against the own label alone half a cutmix batch reads as misses."""
    return torch.where(keep >= 0.5, labels, labels[partner])
