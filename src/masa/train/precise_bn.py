"""Batch-norm statistics recomputed for the weights being validated (precise BN: Wu and
Johnson, "Rethinking 'Batch' in BatchNorm", 2021; `finetune.precise_bn`).

Batch norm evaluates with running averages (momentum 0.1: mostly the last ten or so training
batches), batches taken with weights that have moved since, on augmented clips. Under a high
learning rate that lag is large. On new signers masa's held-out accuracy swung between 35 and
96 % from epoch to epoch where the same weights with recomputed statistics stayed within 62-98 %,
and the release was picked from that noise (docs/results.md, "Precise batch norm"). Recomputing the
statistics over training clips prepared as evaluation prepares them (centre-sampled, never
augmented) gives every validated and released epoch the statistics of its own weights.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import update_bn
from torch.utils.data import DataLoader

from masa import config as cfgmod
from masa.data.dataset import ClipDataset, collate_clips
from masa.data.store import PoseStore
from masa.evaluate.scores import batch_inputs


def spread_subset(idx: np.ndarray, limit: int) -> np.ndarray:
    """At most `limit` of `idx`, evenly spaced: the same clips every epoch, every class's share kept
    roughly, and no random state drawn (a resumed run recomputes the same statistics)."""
    if len(idx) <= limit:
        return idx
    return idx[np.linspace(0, len(idx) - 1, limit).round().astype(np.int64)]


class _ThreeInputs(nn.Module):
    """update_bn calls model(batch[0]); the classifiers take (xy, present, valid)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, inputs):
        return self.model(*inputs)


class PreciseBatchNorm:
    """recompute(model): every batch-norm layer's statistics averaged, equally weighted, over
    up to `clips` training clips, in training mode (as batch norm saw them in training, but for
    these weights); the model's mode is restored. A model without batch norm is left alone at
    no cost: update_bn returns before it asks for a batch."""

    def __init__(self, store: PoseStore, train_idx: np.ndarray, cfg: cfgmod.Config, clips: int, device):
        fc = cfg.finetune
        data = ClipDataset(store, spread_subset(train_idx, clips), cfg.normalise, fc.num_frames, fc.sampling)
        self.loader = DataLoader(data, batch_size=fc.batch_size, collate_fn=collate_clips, num_workers=fc.num_workers)
        self.device = device

    def batches(self):
        for batch in self.loader:
            # evaluation clips come as (B, clips=1, T, ...): the classifiers take (B, T, ...)
            yield (tuple(t.flatten(0, 1) for t in batch_inputs(batch, self.device)),)

    @torch.no_grad()
    def recompute(self, model: nn.Module) -> None:
        # dropout runs in the pass and the loader draws a seed: on a forked random stream, so a run
        # with the option trains exactly as one without (they differ in validation and the pick only)
        device = torch.device(self.device)
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):  # the CPU stream always
            update_bn(self.batches(), _ThreeInputs(model).train(model.training))  # it restores the wrapper's mode
