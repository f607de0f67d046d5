"""`masa pretrain`: the MASA pre-training loop on CPU, one GPU, or many with torchrun.

The run directory holds config.json (the resolved config), metrics.jsonl, TensorBoard
events under tb/, and checkpoints/: last.pt (every epoch and at a stop) and epoch_NNNN.pt
every `checkpoint_every` epochs. `resume=True` continues from last.pt exactly where it
stopped: same data order, same masks, same dropout, so the losses match an uninterrupted run.
"""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from masa import config as cfgmod
from masa import losses, pretext
from masa.data.dataset import PoseDataset, collate
from masa.data.store import StoreSet
from masa.model.registry import create_model
from masa.train import checkpoint, distributed
from masa.train.errors import NonFiniteLoss
from masa.train.amp import autocast_for, optimiser_step
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
        target, weight, ma, sa, present = pretext.make_views(xy, conf, valid, pc, generator, with_sa=tc.lambda_s > 0)
    if sa is not None:
        raw.momentum_update(tc.momentum)
    out = model(xy / 256.0, present, valid, ma, sa, with_decoder=tc.ma_weight > 0)
    zero = xy.new_zeros(())
    loss_m = (losses.motion_loss(out, target, weight, ma, tc.motion_loss, tc.motion_loss_scale, pc.code_threshold)
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


def pretrain(cfg: cfgmod.Config, data: list[Path | str], out: Path | str, resume: bool = False,
             splits: list[str] | None = None, progress: bool = True) -> dict:
    """Run (or resume) pre-training; returns the last logged metrics."""
    tc = cfg.pretrain
    out = Path(out)
    device, rank, world = distributed.setup(tc.device)
    last_ckpt = checkpoint.last_of_run(out, resume)

    stores = StoreSet(data, splits=splits, exclude=None if splits else ["test"])  # never the test split by default
    dataset = PoseDataset(stores, cfg.normalise, tc.max_frames)
    refuse_without_motion(stores.lengths(), cfg.pretext.interval)
    global_batch = tc.batch_size * world
    if len(dataset) < global_batch:
        raise ValueError(f"{len(dataset)} samples are fewer than one global batch ({global_batch}); lower pretrain.batch_size")
    if tc.lambda_s > 0 and tc.queue_size % global_batch:
        raise ValueError(f"pretrain.queue_size {tc.queue_size} must be a multiple of the global batch "
                         f"{global_batch} (= batch_size {tc.batch_size} x {world} processes)")

    torch.manual_seed(tc.seed + rank)
    np.random.seed(tc.seed + rank)
    generator = torch.Generator(device=device)
    generator.manual_seed(tc.seed + rank)
    raw = create_model(cfg.model.size, "pretrainer", model_cfg=cfg.model, pretrain_cfg=tc, pretext_cfg=cfg.pretext).to(device)
    if world > 1 and device.type == "cuda":
        raw = torch.nn.SyncBatchNorm.convert_sync_batchnorm(raw)
    params = [p for p in raw.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=tc.lr, betas=tuple(tc.betas), weight_decay=tc.weight_decay)
    amp_ctx, scaler = autocast_for(device, tc.amp)

    start_epoch, start_batch, step = 0, 0, 0
    if resume:
        state, _ = checkpoint.load_for_resume(last_ckpt)
        raw.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        start_epoch, start_batch, step = state["epoch"], state["batch"], state["step"]
        rng_file = out / "checkpoints" / f"last.rank{rank}.rng.pt"
        checkpoint.set_rng_state(checkpoint.load(rng_file) if rank else state["rng"], generator)
        if distributed.is_main():  # lines logged after that checkpoint are written again
            checkpoint.truncate_metrics(out / "metrics.jsonl", lambda row: row.get("step", 0) <= step)
        log.info("resumed %s at epoch %d, batch %d, step %d", out, start_epoch, start_batch, step)

    model = raw
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(raw, device_ids=[device.index] if device.type == "cuda" else None,
                                                          find_unused_parameters=True)
    if tc.compile:
        model = torch.compile(model, dynamic=True)

    writer = None
    if distributed.is_main():
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.json").write_text(cfgmod.dumps(cfg))
        from tensorboardX import SummaryWriter

        writer = SummaryWriter(str(out / "tb"), purge_step=step if resume else None)

    def save(epoch: int, batch: int):
        rng = checkpoint.rng_state(generator)
        if rank:
            checkpoint.save(out / "checkpoints" / f"last.rank{rank}.rng.pt", rng)
            return
        state = {"kind": "masa-pretrain", "config": cfgmod.to_dict(cfg), "model": raw.state_dict(),
                 "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict() if scaler else None,
                 "epoch": epoch, "batch": batch, "step": step, "rng": rng}
        checkpoint.save(last_ckpt, state, keep_previous=True)

    metrics: dict = {}
    stopped = False
    model.train()
    for epoch in range(start_epoch, tc.epochs):
        batches = epoch_batches(len(dataset), global_batch, tc.seed, epoch)
        first = start_batch if epoch == start_epoch else 0
        mine = [b[rank * tc.batch_size : (rank + 1) * tc.batch_size] for b in batches[first:]]
        loader = DataLoader(dataset, batch_sampler=mine, collate_fn=collate, num_workers=tc.num_workers,
                            generator=torch.Generator().manual_seed(tc.seed), persistent_workers=False,
                            pin_memory=device.type == "cuda")
        lam = losses.lambda_s(epoch, tc.lambda_s, tc.lambda_ramp_epochs)
        bar = tqdm(loader, desc=f"epoch {epoch}", disable=None if progress and distributed.is_main() else True, leave=False)
        tick, tick_step = time.perf_counter(), step
        for i, batch in enumerate(bar, start=first):
            lr = learning_rate(epoch + i / len(batches), tc)
            for group in optimizer.param_groups:
                group["lr"] = lr
            with amp_ctx:
                loss, parts, keys = compute_losses(model, raw, batch, cfg, generator, lam, device)
            if not torch.isfinite(loss):
                raise NonFiniteLoss.at(f"at step {step + 1} (epoch {epoch}, batch {i}: L_m={parts['loss_m'].item():.4g}, "
                                       f"L_s={parts['loss_s'].item():.4g})",
                                       [stores.id_of(int(k)) for k in batch["index"]], last_ckpt)
            optimiser_step(loss, optimizer, scaler)
            if keys is not None:
                raw.enqueue(distributed.all_gather(keys))
            step += 1
            last_step = (tc.max_steps and step >= tc.max_steps) or (epoch + 1 == tc.epochs and i + 1 == len(batches))
            if step % tc.log_every == 0 or step == 1 or last_step:  # reductions sync the device: only when logged
                now = time.perf_counter()
                metrics = {"step": step, "epoch": epoch, "lr": lr, "lambda_s": lam,
                           "seq_per_s": global_batch * (step - tick_step) / max(now - tick, 1e-9),
                           "loss": float(distributed.all_reduce_mean(loss.detach()).item()),
                           **{k: float(distributed.all_reduce_mean(v).item()) for k, v in parts.items()}}
                tick, tick_step = now, step
                bar.set_postfix(L_m=f"{metrics['loss_m']:.3g}", L_s=f"{metrics['loss_s']:.3g}", lam=f"{lam:.3g}",
                                lr=f"{lr:.2g}", seq_s=f"{metrics['seq_per_s']:.1f}")
                if writer is not None:
                    with open(out / "metrics.jsonl", "a") as f:
                        f.write(json.dumps(metrics) + "\n")
                    for k in ("loss", "loss_m", "loss_s", "lr", "lambda_s", "seq_per_s"):
                        writer.add_scalar(f"pretrain/{k}", metrics[k], step)
            if tc.max_steps and step >= tc.max_steps:
                save(epoch, i + 1)
                stopped = True
                break
        if stopped:
            break
        save(epoch + 1, 0)
        if rank == 0 and ((epoch + 1) % tc.checkpoint_every == 0 or epoch + 1 == tc.epochs):
            checkpoint.copy(last_ckpt, last_ckpt.with_name(f"epoch_{epoch + 1:04d}.pt"))
    if writer is not None:
        writer.close()
    distributed.barrier()
    return metrics
