"""Samples from stores as tensors, and batches padded to their longest sample."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from masa.config import AugmentConfig, NormaliseConfig
from masa.data.augment import augment, temporal_crop
from masa.data.store import PoseStore, StoreSet
from masa.data.sampling import sample_clip, swap_hands, eval_clips
from masa.poses.normalise import prepare_frames


class PoseDataset(Dataset):
    """Store samples with eps_c applied. Item: {'frames' (T, 49, 3), 'label', 'index'}.

    Samples longer than `max_frames` keep their centre `max_frames` frames."""

    def __init__(self, samples: PoseStore | StoreSet, norm: NormaliseConfig, max_frames: int = 150, indices=None):
        self.samples = samples
        self.norm = norm
        self.max_frames = max_frames
        self.indices = np.arange(len(samples)) if indices is None else np.asarray(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        frames, label = self.samples[int(self.indices[i])]
        if len(frames) > self.max_frames:
            start = (len(frames) - self.max_frames) // 2
            frames = frames[start : start + self.max_frames]
        return {"frames": prepare_frames(frames, self.norm), "label": label, "index": int(i)}


class ClipDataset(Dataset):
    """Labelled samples sampled to a fixed number of frames for classification.

    Item: {'frames' (N, 49, 3) in training, (clips, N, 49, 3) in testing, 'label', 'index'}.
    Training randomness comes from (seed, epoch, item), so it is the same in every worker
    and after a resume; call `set_epoch` before each epoch."""

    def __init__(self, samples: PoseStore | StoreSet, indices, norm: NormaliseConfig, num_frames: int,
                 method: str = "segments", train: bool = False, hand_swap: bool = False, clips: int = 1, seed: int = 0,
                 aug: AugmentConfig | None = None):
        self.samples, self.indices, self.norm = samples, np.asarray(indices), norm
        self.num_frames, self.method, self.train = num_frames, method, train
        self.hand_swap, self.clips, self.seed, self.epoch = hand_swap, clips, seed, 0
        self.aug = aug or AugmentConfig()

    def set_epoch(self, epoch: int):
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> dict:
        frames, label = self.samples[int(self.indices[i])]
        frames = prepare_frames(frames, self.norm)
        if self.train:
            rng = np.random.default_rng([self.seed, self.epoch, int(i)])
            start, stop = temporal_crop(len(frames), rng, self.aug.crop)
            clip = sample_clip(frames[start:stop], self.num_frames, self.method, rng)
            if self.hand_swap and rng.random() < 0.5:
                clip = swap_hands(clip)
            clip = augment(clip, rng, self.aug, self.norm.mirror_left_hand)
        else:
            clip = eval_clips(frames, self.num_frames, self.method, self.clips)
        return {"frames": clip, "label": label, "index": int(i)}


def collate_clips(items: list[dict]) -> dict:
    """Fixed-length clips: xy (B, [clips,] N, 49, 2), conf (B, [clips,] N, 49), label, index."""
    f = torch.from_numpy(np.stack([it["frames"] for it in items]))
    return {"xy": f[..., :2].contiguous(), "conf": f[..., 2].contiguous(),
            "label": torch.tensor([it["label"] for it in items]), "index": torch.tensor([it["index"] for it in items])}


def collate(items: list[dict]) -> dict:
    """Pad to the longest sample: xy (B, T, 49, 2) in 256-unit box pixels, conf (B, T, 49),
    valid (B, T) bool, label (B,), index (B,)."""
    T = max(len(it["frames"]) for it in items)
    B = len(items)
    frames = np.zeros((B, T, 49, 3), np.float32)
    valid = np.zeros((B, T), bool)
    for b, it in enumerate(items):
        n = len(it["frames"])
        frames[b, :n] = it["frames"]
        valid[b, :n] = True
    f = torch.from_numpy(frames)
    return {
        "xy": f[..., :2].contiguous(), "conf": f[..., 2].contiguous(), "valid": torch.from_numpy(valid),
        "label": torch.tensor([it["label"] for it in items]), "index": torch.tensor([it["index"] for it in items]),
    }
