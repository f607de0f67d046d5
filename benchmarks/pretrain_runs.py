"""The benchmark's pre-training runs: one per resolved setting and data, found again by its
settings (so an added setting does not orphan earlier runs), resumed where it stopped, and
shared by every task that pre-trains on the same store (benchmarks/accuracy.py)."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import real_tasks

from masa import config as cfgmod


def pretrain_settings(cfg: cfgmod.Config) -> dict:
    """What makes one pre-training run: every setting but fine-tuning's, augmentation's and the
    machine's thread count, with the model as pre-training builds it (its own dropout, whether
    set as pretrain.dropout or as model.dropout)."""
    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("finetune", "augment")}
    settings["model"] = dataclasses.asdict(cfgmod.pretraining_model(cfg))
    settings["pretrain"].pop("threads")
    settings["pretrain"].pop("dropout")
    return settings


def pretrain_key(cfg: cfgmod.Config) -> str:
    """One pre-training run per resolved setting (fine-tuning and augmentation aside): a preset
    whose contents change gets a new run instead of reusing one of another architecture. (The
    preset's thread count is in it, unlike in pretrain_settings, so that earlier runs keep their names.)"""
    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("finetune", "augment")}
    return hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]


def pretrain_dir(work: Path, data: str, cfg: cfgmod.Config) -> Path:
    """The folder of the pre-training run for `cfg` on the store named `data`: the one named by
    its key, else an earlier run whose config.json reads back to the same settings. A setting
    added to masa since that run is read back at its default, which keeps the old behaviour, so
    adding one does not orphan every earlier run (the key, a hash of all settings, changes)."""
    named = work / f"pretrain-{data}-{pretrain_key(cfg)}"
    if named.exists():
        return named
    wanted = pretrain_settings(cfg)
    for run in sorted(work.glob(f"pretrain-{data}-" + "?" * 8)):  # runs on this store, not one named longer
        try:
            saved = cfgmod.from_dict(cfgmod.Config, json.loads((run / "config.json").read_text()))
        except (OSError, ValueError, TypeError):
            continue  # not a run, or one from a masa that had settings this one does not know
        if pretrain_settings(saved) == wanted:
            return run
    return named


def pretrain_finished(run: Path, cfg: cfgmod.Config) -> bool:
    """Whether `run` trained all its epochs: its last epoch's checkpoint exists. A run that was
    stopped has a last.pt too (written at a stop), and is resumed instead of reused."""
    return (run / "checkpoints" / f"epoch_{cfg.pretrain.epochs:04d}.pt").exists()


def pretrain_once(args, store: Path, splits: list[str] | None, presets, overrides) -> tuple[Path, bool]:
    """The pre-training run on `store` (its `splits`; None: every split but test, pretrain's
    default) for these settings, trained here unless an earlier one matches; returns (run,
    whether it was trained now)."""
    from masa.train.pretrain import pretrain

    cfg = cfgmod.resolve(presets, overrides)
    out = pretrain_dir(args.work, store.name, cfg)
    if pretrain_finished(out, cfg):
        print(f"pre-training reused: {out}", flush=True)
        return out, False
    cfg.pretrain.threads = args.threads * args.jobs  # all of them: the load average still counts the last jobs
    start = time.perf_counter()
    pretrain(cfg, [store], out, splits=splits, progress=False, resume=(out / "checkpoints").exists())
    print(f"pre-trained on {store.name} in {time.perf_counter() - start:.0f} s -> {out}", flush=True)
    return out, True


def pretraining_sources(args, norm, stores: dict) -> dict:
    """What each task's pre-trained model is pre-trained on: task -> (store, splits). One corpus
    shared by every task (its test samples left out when it was built), or with `--pretrain-on
    task` each task's own store without its test split; {} where there is no corpus."""
    if args.pretrain_on == "task":
        return {t: (stores[t], ["train", "val"]) for t in args.tasks}
    corpus = real_tasks.corpus_store(args.data, args.work, norm, args.pretrain_fraction, webcam=not args.quick)
    return {} if corpus is None else {t: (corpus, None) for t in args.tasks}


def pretrain_all(args, norm, stores: dict) -> tuple[dict, int]:
    """Every pre-training run the pre-trained models need, once per (store, pre-training seed):
    -> ({task: {pre-training seed (None: the preset's): run}}, how many were trained here)."""
    runs, by_store, trained = {}, {}, 0
    for task, (store, splits) in pretraining_sources(args, norm, stores).items():
        for pre_seed in args.pretrain_seeds or [None]:
            if (store, pre_seed) not in by_store:
                extra = [] if pre_seed is None else [f"pretrain.seed={pre_seed}"]
                by_store[store, pre_seed], fresh = pretrain_once(args, store, splits, ["small-data"],
                                                                 args.set + args.pretrain_set + extra)
                trained += fresh
            runs.setdefault(task, {})[pre_seed] = by_store[store, pre_seed]
    return runs, trained
