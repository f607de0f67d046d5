"""`masa finetune`: a pre-trained (or fresh) encoder plus a linear classifier, trained on
labelled signs.

The run directory holds config.json, metrics.jsonl (per epoch: loss, train and validation
top-1 and loss, lr), TensorBoard events, checkpoints/last.pt (resume) and release/ (the best
epoch by validation top-1, a tie going to the lower validation loss; the last epoch when there is
no validation split) in the release format. With finetune.ema the moving average of the weights is
what is validated and released; with finetune.precise_bn its batch-norm statistics are first
recomputed over training clips for its current weights (masa.train.precise_bn).
"""
from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from masa import config as cfgmod
from masa import release
from masa.data.dataset import ClipDataset, collate_clips
from masa.data.info import part_shares
from masa.data.store import PoseStore
from masa.device import set_threads
from masa.evaluate.scores import batch_inputs, predict
from masa.train import checkpoint, distributed
from masa.train.amp import autocast_for, optimiser_step
from masa.train.averaging import moving_average
from masa.train.errors import NonFiniteLoss
from masa.train.mixing import dominant_labels, mix_batch, mixed_cross_entropy
from masa.train.precise_bn import PreciseBatchNorm
from masa.train.progress import EpochProgress
from masa.train.rundir import RunDir
from masa.train.schedule import finetune_rate, fit_to_budget
from masa.train.starting_point import build_classifier_for, from_scratch

log = logging.getLogger(__name__)


def training_indices(store: PoseStore, cfg: cfgmod.FinetuneConfig) -> np.ndarray:
    """Labelled samples of the training splits; with labels_per_class, the first n of each
    class in a seeded shuffle (the 'few labels' setting)."""
    idx = store.labelled(cfg.train_splits)
    if cfg.labels_per_class > 0:
        idx = np.random.default_rng(cfg.seed).permutation(idx)
        counts: dict[int, int] = {}
        keep = []
        for i in idx:
            c = int(store.labels[i])
            if counts.get(c, 0) < cfg.labels_per_class:
                counts[c] = counts.get(c, 0) + 1
                keep.append(i)
        idx = np.sort(np.array(keep))
    return idx


def encoder_layer(name: str, depth: int) -> int:
    """The depth of a classifier parameter for layer-wise rate decay: 0 for the embedding (and
    the transformer's input norm), i + 1 for transformer block i, depth + 1 for everything after
    the blocks (pooling, classifier)."""
    if name.startswith(("encoder.embedding.", "encoder.transformer.input_norm.")):
        return 0
    if name.startswith("encoder.transformer.blocks."):
        return int(name.split(".")[3]) + 1
    return depth + 1


def rate_scale(name: str, model, fc: cfgmod.FinetuneConfig) -> float:
    """lr multiplier of one parameter: encoder_lr_scale on the encoder, times layer_decay to the
    power of how many layers it lies below the classifier."""
    if not name.startswith("encoder."):
        return 1.0
    depth = len(model.encoder.transformer.blocks)
    return fc.encoder_lr_scale * fc.layer_decay ** (depth + 1 - encoder_layer(name, depth))


def make_optimizer(model, fc: cfgmod.FinetuneConfig) -> torch.optim.Optimizer:
    """SGD with momentum (paper) or AdamW; no weight decay on biases and norms, and the encoder
    (where the model has one) at lr x encoder_lr_scale, layer by layer x layer_decay (rate_scale).
    Each group's `lr_scale` is applied by the schedule."""
    by_kind: dict[tuple[float, float], list] = {}
    for name, p in model.named_parameters():
        if p.requires_grad:
            scale = rate_scale(name, model, fc)
            by_kind.setdefault((scale, fc.weight_decay if p.dim() >= 2 else 0.0), []).append(p)
    groups = [{"params": ps, "weight_decay": decay, "lr_scale": scale} for (scale, decay), ps in by_kind.items()]
    if fc.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=fc.lr, momentum=fc.momentum)
    if fc.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=fc.lr)
    raise ValueError(f"unknown finetune.optimizer {fc.optimizer!r} (sgd | adamw)")


def train_one_epoch(model, loader, optimizer, scaler, amp_ctx, fc: cfgmod.FinetuneConfig, device, on_bad_batch,
                    frozen: bool = False, averaged=None):
    """One pass over `loader` -> (mean loss, train top-1, samples). `on_bad_batch(batch)` raises
    for a non-finite loss. averaged: a moving average of the weights, updated after each step. frozen: the encoder gets no gradients (the optimiser and its
    momentum leave it alone) and runs as in evaluation (running batch-norm statistics, no
    dropout), so only the classifier learns, on the features a probe sees. A model without an
    encoder (the baselines) has nothing to freeze."""
    model.train()
    encoder = getattr(model, "encoder", None)
    if encoder is not None:
        encoder.requires_grad_(not frozen)
        encoder.train(not frozen)
    total = torch.zeros((), device=device)  # summed on the device, read once per epoch
    correct = torch.zeros((), dtype=torch.long, device=device)
    seen = 0
    for batch in loader:
        xy, present, valid = batch_inputs(batch, device)
        labels = batch["label"].to(device)
        mixed = fc.mix != "none"
        if mixed:
            xy, present, valid, partner, keep = mix_batch(xy, present, valid, fc.mix, fc.mix_alpha)
        with amp_ctx:
            logits = model(xy, present, valid)
            if mixed:
                loss = mixed_cross_entropy(logits, labels, partner, keep, fc.label_smoothing)
            else:
                loss = F.cross_entropy(logits.float(), labels, label_smoothing=fc.label_smoothing)
        if not torch.isfinite(loss):
            on_bad_batch(batch)
        optimiser_step(loss, optimizer, scaler, fc.grad_clip)
        if averaged is not None:
            averaged.update_parameters(model)
        total += loss.detach() * len(labels)
        correct += (logits.argmax(-1) == (dominant_labels(labels, partner, keep) if mixed else labels)).sum()
        seen += len(labels)
    return total.item() / seen, correct.item() / seen, seen


def kept_rank(row: dict) -> tuple[float, float]:
    """How epochs rank for the release: validation top-1, a tie going to the lower validation
    loss, not to the first, often least trained, epoch (a small or saturated validation split ties
    every epoch after the first at 100 %). Rows without a loss (runs written before it was logged)
    rank by top-1 alone, the first of equals."""
    return row["val_top1"], -row.get("val_loss", float("inf"))


def validation_figures(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(top-1, cross-entropy) of class probabilities (N, C) against labels (N,); a NaN row (a clip
    with non-finite frames) counts as wrong, at the loss of a probability of 1e-12."""
    top1 = float(((scores.argmax(1) == labels) & np.isfinite(scores).all(1)).mean())  # argmax calls NaN class 0
    truth = np.nan_to_num(scores[np.arange(len(labels)), labels], nan=0.0)
    return top1, float(-np.log(np.clip(truth, 1e-12, 1.0)).mean())


def finetune(cfg: cfgmod.Config, data: Path | str, init: str | None, out: Path | str, resume: bool = False,
             progress: bool = True, explicit: set[str] = frozenset()) -> dict:
    """Train; returns {'best_val_top1', 'best_epoch', 'epochs'}. `explicit`: the keys the user
    set on the command line (they are never silently replaced by the checkpoint's)."""
    fc = cfg.finetune
    device, _, _ = distributed.setup(fc.device)
    threads = set_threads(fc.threads)
    store = PoseStore(data)
    if not store.classes:
        raise ValueError(f"{data} has no class names: import it with --labels to fine-tune")
    train_idx = training_indices(store, fc)
    if len(train_idx) == 0:
        raise ValueError(f"{data} has no labelled samples in splits {fc.train_splits}")
    val_idx = store.labelled(fc.val_split) if fc.val_split else np.array([], np.int64)

    trained_parts = part_shares(store, train_idx)
    torch.manual_seed(fc.seed)
    model, cfg = build_classifier_for(cfg, len(store.classes), init, explicit)
    fitted = fit_to_budget(cfg.finetune, len(train_idx))
    if fitted != cfg.finetune:  # config.json records the schedule that runs
        log.info("finetune.step_budget=%d on %d samples: %d epochs (of %d), milestones %s",
                 fitted.step_budget, len(train_idx), fitted.epochs, cfg.finetune.epochs, list(fitted.lr_milestones))
        cfg = dataclasses.replace(cfg, finetune=fitted)
    fc = cfg.finetune  # a baseline or a run from scratch drops the preset's settings it has no use for ...
    run = RunDir(out, cfg, "finetune", resume)  # ... before a resume compares them with the run's own
    model.to(device)
    optimizer = make_optimizer(model, fc)
    averaged = moving_average(model, fc.ema)
    kept = averaged.module if averaged is not None else model  # what is validated and released
    amp_ctx, scaler = autocast_for(device, fc.amp)
    train_set = ClipDataset(store, train_idx, cfg.normalise, fc.num_frames, fc.sampling, train=True,
                            hand_swap=fc.hand_swap, seed=fc.seed, aug=cfg.augment)
    precise_bn = PreciseBatchNorm(store, train_idx, cfg, fc.precise_bn, device) if fc.precise_bn else None
    val_loader = None
    if len(val_idx):
        val_set = ClipDataset(store, val_idx, cfg.normalise, fc.num_frames, fc.sampling)
        val_loader = DataLoader(val_set, batch_size=fc.batch_size, collate_fn=collate_clips, num_workers=fc.num_workers)

    start_epoch, best, best_epoch = 0, (-1.0, -float("inf")), -1
    if resume:
        state, _ = checkpoint.load_for_resume(run.last)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if averaged is not None:
            if state.get("averaged") is None:
                raise ValueError(f"{run.last} was trained without finetune.ema: resume it with finetune.ema=0")
            averaged.load_state_dict(state["averaged"])
        if scaler is not None and state.get("scaler"):  # fp16: resume with the loss scale it had reached
            scaler.load_state_dict(state["scaler"])
        start_epoch, best_epoch = state["epoch"], state["best_epoch"]
        best = state["best"], -state.get("best_loss", float("inf"))  # kept_rank of the kept epoch
        checkpoint.set_rng_state(state["rng"])
    started_on = {"data": str(Path(data).resolve()),
                  "init": "none" if from_scratch(init) else str(Path(init).resolve())}
    run.start(cfg, started_on, keep_row=lambda row: row["epoch"] < start_epoch, threads=threads)

    def bad_batch(batch):
        raise NonFiniteLoss.at(f"in fine-tuning epoch {epoch}", [store.ids[int(k)] for k in batch["index"]], run.last)

    bar = EpochProgress("finetune", fc.epochs, start_epoch, enabled=progress)
    for epoch in range(start_epoch, fc.epochs):
        lr = finetune_rate(epoch, fc)
        for group in optimizer.param_groups:
            group["lr"] = lr * group.get("lr_scale", 1.0)
        train_set.set_epoch(epoch)
        order = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(fc.seed * 1000 + epoch))
        loader = DataLoader(train_set, batch_size=fc.batch_size, sampler=order.tolist(), collate_fn=collate_clips,
                            num_workers=fc.num_workers, generator=torch.Generator().manual_seed(fc.seed))
        frozen = epoch < fc.freeze_epochs  # a linear probe first: the random classifier's early
        #                                    gradients do not distort a pre-trained encoder (LP-FT)
        loss, top1, seen = train_one_epoch(model, bar.batches(loader, len(loader)), optimizer, scaler, amp_ctx, fc,
                                           device, bad_batch, frozen, averaged)
        row = {"epoch": epoch, "lr": lr, "loss": loss, "train_top1": top1}
        if precise_bn is not None:  # what is validated, released and checkpointed has its own statistics
            precise_bn.recompute(kept)
        if val_loader is not None:
            row["val_top1"], row["val_loss"] = validation_figures(*predict(kept, val_loader, device))
        rank = kept_rank(row) if val_loader is not None else (epoch, 0.0)  # without validation: the last
        if rank > best:
            best, best_epoch = rank, epoch
            release.save(run.path / "release", kept, cfg, store.classes, trained_parts)
        run.log(row, epoch, "finetune")
        checkpoint.save(run.last, {"kind": "masa-finetune", "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                                   "averaged": averaged.state_dict() if averaged is not None else None,
                                   "scaler": scaler.state_dict() if scaler else None, "epoch": epoch + 1, "best": best[0],
                                   "best_loss": -best[1], "best_epoch": best_epoch, "rng": checkpoint.rng_state()}, keep_previous=True)
        bar.end_epoch(epoch, {"loss": loss, "train top-1": top1,
                              **({"val top-1": row["val_top1"]} if "val_top1" in row else {})}, seen)
        log.debug("epoch %d: %s", epoch, row)
    bar.close()
    run.close()
    return {"best_val_top1": best[0] if val_loader is not None else None, "best_epoch": best_epoch, "epochs": fc.epochs}
