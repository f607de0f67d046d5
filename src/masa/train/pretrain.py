"""`masa pretrain`: the MASA pre-training loop on CPU, one GPU, or many with torchrun.

The run directory holds config.json (the resolved config), metrics.jsonl, TensorBoard
events under tb/, and checkpoints/: last.pt (every epoch and at a stop) and epoch_NNNN.pt
every `checkpoint_every` epochs. `resume=True` continues from last.pt exactly where it
stopped: same data order, same masks, same dropout, so the losses match an uninterrupted run.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from masa import config as cfgmod
from masa import losses, pretext
from masa.data.dataset import PoseDataset, collate
from masa.data.store import StoreSet
from masa.device import set_threads
from masa.inputs import model_inputs
from masa.model.registry import build_pretrainer
from masa.train import checkpoint, distributed
from masa.train.amp import autocast_for, optimiser_step
from masa.train.errors import NonFiniteLoss
from masa.train.progress import EpochProgress
from masa.train.rundir import RunDir
from masa.train.schedule import learning_rate

log = logging.getLogger(__name__)


def epoch_batches(n: int, global_batch: int, seed: int, epoch: int) -> list[np.ndarray]:
    """The epoch's shuffled global batches (last incomplete one dropped), the same on every rank."""
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[i : i + global_batch] for i in range(0, n - global_batch + 1, global_batch)]


def compute_losses(model, raw, batch, cfg: cfgmod.Config, generator, lam: float, device):
    """One forward pass: views, masks and targets on the device, then L_m and L_s.
    Returns (total loss, {'loss_m', 'loss_s'}, keys or None)."""
    pc, tc = cfg.pretext, cfg.pretrain
    xy, conf, valid = (batch[k].to(device, non_blocking=True) for k in ("xy", "conf", "valid"))
    with torch.no_grad():
        xy = pretext.clip_geometry(xy, conf, pc, cfg.normalise.mirror_left_hand, generator)
        target, weight, ma, sa = pretext.make_views(xy, conf, valid, pc, generator, with_sa=tc.lambda_s > 0)
        sa_xy, sa_conf = (pretext.sa_view(xy, conf, valid, pc, cfg.normalise.mirror_left_hand, generator)
                          if sa is not None else (xy, conf))
    if sa is not None:
        raw.momentum_update(tc.momentum)
    inputs = model_inputs(xy, conf, valid)
    own_sa = sa_xy is not xy or sa_conf is not conf  # the SA view has its own geometry or timing (pretext.sa_*)
    out = model(*inputs, ma, sa, with_decoder=tc.ma_weight > 0,
                sa_inputs=model_inputs(sa_xy, sa_conf)[:2] if own_sa else None)
    zero = xy.new_zeros(())
    loss_m = (losses.motion_loss(out, target, weight, ma, tc.motion_loss, tc.motion_loss_scale, tc.motion_loss_min)
              if tc.ma_weight > 0 else zero)
    loss_s = losses.info_nce(out["logits"]) if sa is not None else zero
    total = tc.ma_weight * loss_m + lam * loss_s
    return total, {"loss_m": loss_m.detach(), "loss_s": loss_s.detach()}, out.get("k")


def refuse_without_motion(lengths, interval: int):
    """A sample of at most k frames has no motion target x[t+k] - x[t]: refuse data made only of
    such samples (L_m would be 0 at every step), and warn when many are."""
    short = int((np.asarray(lengths) <= interval).sum())
    if short == len(lengths):
        raise ValueError(f"none of the {len(lengths)} samples has more than pretext.interval={interval} frames: "
                         "there is no motion to predict (single-frame data cannot be pre-trained on)")
    if short:
        log.warning("%d of %d samples have at most %d frames and give no motion target", short, len(lengths), interval)


class PretrainState:
    """What one epoch of pre-training needs besides the model: the run, data and optimisation."""

    def __init__(self, cfg, run, dataset, stores, optimizer, scaler, amp_ctx, generator, device, rank, world):
        self.cfg, self.run, self.dataset, self.stores = cfg, run, dataset, stores
        self.optimizer, self.scaler, self.amp_ctx, self.generator = optimizer, scaler, amp_ctx, generator
        self.device, self.rank, self.world = device, rank, world
        self.step = 0
        self.metrics: dict = {}

    def save(self, raw, epoch: int, batch: int):
        rng = checkpoint.rng_state(self.generator)
        if self.rank:
            checkpoint.save(self.run.last.with_name(f"last.rank{self.rank}.rng.pt"), rng)
            return
        state = {"kind": "masa-pretrain", "config": cfgmod.to_dict(self.cfg), "model": raw.state_dict(),
                 "optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict() if self.scaler else None,
                 "epoch": epoch, "batch": batch, "step": self.step, "rng": rng}
        checkpoint.save(self.run.last, state, keep_previous=True)


def train_one_epoch(model, raw, s: PretrainState, epoch: int, first: int, batches: list, loader) -> tuple[dict, bool]:
    """Batches `first`... of epoch `epoch` -> ({'L_m', 'L_s'}: means over these batches, and
    'samples'; whether max_steps stopped it). Logs every `log_every` steps."""
    tc = s.cfg.pretrain
    global_batch = tc.batch_size * s.world
    lam = losses.lambda_s(epoch, tc.lambda_s, tc.lambda_ramp_epochs)
    sums = torch.zeros(2, device=s.device)  # L_m, L_s summed on the device, read once per epoch
    tick, tick_step, done, stop = time.perf_counter(), s.step, 0, False  # a resume at an epoch's end has no batch
    model.train()
    for i, batch in enumerate(loader, start=first):
        lr = learning_rate(epoch + i / len(batches), tc)
        for group in s.optimizer.param_groups:
            group["lr"] = lr
        with s.amp_ctx:
            loss, parts, keys = compute_losses(model, raw, batch, s.cfg, s.generator, lam, s.device)
        if not torch.isfinite(loss):
            raise NonFiniteLoss.at(f"at step {s.step + 1} (epoch {epoch}, batch {i}: L_m={parts['loss_m'].item():.4g}, "
                                   f"L_s={parts['loss_s'].item():.4g})",
                                   [s.stores.id_of(int(k)) for k in batch["index"]], s.run.last)
        optimiser_step(loss, s.optimizer, s.scaler, tc.grad_clip)
        if keys is not None:
            raw.enqueue(distributed.all_gather(keys))
        s.step += 1
        done += 1
        sums += torch.stack([parts["loss_m"].float(), parts["loss_s"].float()])
        stop = bool(tc.max_steps and s.step >= tc.max_steps)
        last_step = stop or (epoch + 1 == tc.epochs and i + 1 == len(batches))
        if s.step % tc.log_every == 0 or s.step == 1 or last_step:  # reductions sync the device: only when logged
            now = time.perf_counter()
            s.metrics = {"step": s.step, "epoch": epoch, "lr": lr, "lambda_s": lam,
                         "seq_per_s": global_batch * (s.step - tick_step) / max(now - tick, 1e-9),
                         "loss": float(distributed.all_reduce_mean(loss.detach()).item()),
                         **{k: float(distributed.all_reduce_mean(v).item()) for k, v in parts.items()}}
            tick, tick_step = now, s.step
            s.run.log(s.metrics, s.step, "pretrain")
        if stop:
            s.save(raw, epoch, i + 1)
            break
    mean = (sums / max(done, 1)).tolist()
    return {"L_m": mean[0], "L_s": mean[1], "samples": done * global_batch}, stop


def load_data(cfg: cfgmod.Config, data: list[Path | str], splits: list[str] | None, world: int):
    """The pre-training samples (never a test split unless `splits` names it) and the global
    batch, refusing data that cannot fill a batch or the queue.   -> (stores, dataset, global_batch)"""
    tc = cfg.pretrain
    stores = StoreSet(data, splits=splits, exclude=None if splits else ["test"])
    dataset = PoseDataset(stores, cfg.normalise, tc.max_frames)
    refuse_without_motion(stores.lengths(), cfg.pretext.interval)
    global_batch = tc.batch_size * world
    if len(dataset) < global_batch:
        raise ValueError(f"{len(dataset)} samples are fewer than one global batch ({global_batch}); lower pretrain.batch_size")
    if tc.lambda_s > 0 and tc.queue_size % global_batch:
        raise ValueError(f"pretrain.queue_size {tc.queue_size} must be a multiple of the global batch "
                         f"{global_batch} (= batch_size {tc.batch_size} x {world} processes)")
    return stores, dataset, global_batch


def resume_from_last(raw, s: PretrainState) -> tuple[int, int]:
    """Load model, optimiser, loss scale, step and this rank's RNG from the run's last.pt.
    -> (epoch, batch) to continue from."""
    state, _ = checkpoint.load_for_resume(s.run.last)
    raw.load_state_dict(state["model"])
    s.optimizer.load_state_dict(state["optimizer"])
    if s.scaler is not None and state.get("scaler"):
        s.scaler.load_state_dict(state["scaler"])
    s.step = state["step"]
    rng_file = s.run.last.with_name(f"last.rank{s.rank}.rng.pt")
    checkpoint.set_rng_state(checkpoint.load(rng_file) if s.rank else state["rng"], s.generator)
    log.info("resumed %s at epoch %d, batch %d, step %d", s.run.path, state["epoch"], state["batch"], s.step)
    return state["epoch"], state["batch"]


def pretrain(cfg: cfgmod.Config, data: list[Path | str], out: Path | str, resume: bool = False,
             splits: list[str] | None = None, progress: bool = True) -> dict:
    """Run (or resume) pre-training; returns the last logged metrics."""
    tc = cfg.pretrain
    device, rank, world = distributed.setup(tc.device)
    threads = set_threads(tc.threads)
    run = RunDir(out, cfg, "pretrain", resume, writer=distributed.is_main())

    stores, dataset, global_batch = load_data(cfg, data, splits, world)

    torch.manual_seed(tc.seed + rank)
    np.random.seed(tc.seed + rank)
    generator = torch.Generator(device=device)
    generator.manual_seed(tc.seed + rank)
    raw = build_pretrainer(cfg).to(device)
    if world > 1 and device.type == "cuda":
        raw = torch.nn.SyncBatchNorm.convert_sync_batchnorm(raw)
    params = [p for p in raw.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=tc.lr, betas=tuple(tc.betas), weight_decay=tc.weight_decay)
    amp_ctx, scaler = autocast_for(device, tc.amp)
    s = PretrainState(cfg, run, dataset, stores, optimizer, scaler, amp_ctx, generator, device, rank, world)

    start_epoch, start_batch = resume_from_last(raw, s) if resume else (0, 0)
    started_on = {"data": [str(Path(d).resolve()) for d in data], "splits": splits}
    run.start(cfg, started_on, keep_row=lambda row: row.get("step", 0) <= s.step,  # later lines are written again
              tb_step=s.step, threads=threads)

    model = raw
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(raw, device_ids=[device.index] if device.type == "cuda" else None,
                                                          find_unused_parameters=True)
    if tc.compile:
        model = torch.compile(model, dynamic=True)

    bar = EpochProgress("pretrain", tc.epochs, start_epoch, enabled=progress and distributed.is_main())
    for epoch in range(start_epoch, tc.epochs):
        batches = epoch_batches(len(dataset), global_batch, tc.seed, epoch)
        first = start_batch if epoch == start_epoch else 0
        mine = [b[rank * tc.batch_size : (rank + 1) * tc.batch_size] for b in batches[first:]]
        loader = DataLoader(dataset, batch_sampler=mine, collate_fn=collate, num_workers=tc.num_workers,
                            generator=torch.Generator().manual_seed(tc.seed), persistent_workers=False,
                            pin_memory=device.type == "cuda")
        means, stopped = train_one_epoch(model, raw, s, epoch, first, batches, bar.batches(loader, len(mine)))
        bar.end_epoch(epoch, {"L_m": means["L_m"], "L_s": means["L_s"]}, means["samples"])
        if stopped:
            break
        s.save(raw, epoch + 1, 0)
        if rank == 0 and ((epoch + 1) % tc.checkpoint_every == 0 or epoch + 1 == tc.epochs):
            checkpoint.copy(run.last, run.last.with_name(f"epoch_{epoch + 1:04d}.pt"))
    bar.close()
    run.close()
    distributed.barrier()
    distributed.cleanup()
    return s.metrics
