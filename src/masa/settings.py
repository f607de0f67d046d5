"""Where a run's settings come from, beyond the command line.

- **Resume** continues under the run's own `config.json`; the command line may change what does
  not alter the weights or the data (more epochs, another device), and each change is recorded
  in the run's `history.jsonl`. Changing the architecture, the input or the data is refused.
- **A pre-trained encoder** (`finetune --init`) brings its architecture and normalisation: they
  are adopted and said so. An explicit `--set` that contradicts them is refused. Dropout and
  drop-path rates are the fine-tuning run's own: they regularise training and leave the weights'
  meaning alone.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path

from masa import config as cfgmod

log = logging.getLogger(__name__)

# The weights' shapes and the meaning of their inputs: taken from a pre-trained checkpoint.
ARCHITECTURE = ("model.", "normalise.")
# Rates that regularise training but leave the weights' shapes and meaning alone: a fine-tuning
# run keeps its own (a preset's or --set's), not the pre-training's.
REGULARISATION = ("model.dropout", "model.embed_dropout", "model.drop_path")
# ... and, on resume, also what decides the data, masks and batches an interrupted run was on.
FIXED_ON_RESUME = ARCHITECTURE + (
    "pretext.", "pretrain.seed", "pretrain.dropout", "pretrain.batch_size", "pretrain.queue_size", "pretrain.proj_dim", "pretrain.max_frames",
    "finetune.seed", "finetune.labels_per_class", "finetune.train_splits", "finetune.val_split",
    "finetune.num_frames", "finetune.sampling",
)


def flat(cfg: cfgmod.Config | dict) -> dict[str, object]:
    """{'model.size': 'tiny', ...}: every setting by its full key."""
    data = cfgmod.to_dict(cfg) if not isinstance(cfg, dict) else cfg
    return {f"{section}.{k}": (list(v) if isinstance(v, tuple) else v)
            for section, values in data.items() for k, v in values.items()}


def differences(old: cfgmod.Config | dict, new: cfgmod.Config | dict, prefixes=("",)) -> dict[str, tuple]:
    """{key: (old, new)} for the settings under `prefixes` that differ."""
    a, b = flat(old), flat(new)
    return {k: (a.get(k), b[k]) for k in b if k.startswith(tuple(prefixes)) and a.get(k) != b[k]}


def explicit_keys(overrides: list[str] | None) -> set[str]:
    """The keys a user named with --set (presets and defaults are not explicit)."""
    return {item.split("=", 1)[0].strip() for item in overrides or [] if "=" in item}


def saved_config(run: Path | str) -> cfgmod.Config:
    """A run's own config.json as a Config."""
    path = Path(run) / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"cannot resume {run}: it has no config.json (was it started by masa pretrain/finetune?)")
    try:
        return cfgmod.from_dict(cfgmod.Config, json.loads(path.read_text()))
    except (ValueError, TypeError) as err:
        raise ValueError(f"cannot resume {run}: its config.json is damaged or foreign ({err})") from None


def for_resume(run: Path | str, presets: list[str], overrides: list[str], files: list[str] | None = None) -> cfgmod.Config:
    """The run's saved settings with the command line's presets, files and --set on top."""
    return cfgmod.resolve(presets, overrides, files, base=saved_config(run))


def resume_changes(run: Path | str, cfg: cfgmod.Config, section: str) -> dict[str, tuple]:
    """The settings a run resumes under that differ from those it was started with (its
    config.json), as {key: (was, now)}. Refuses a change that would not continue the same
    training. `section`: the job's own section (pretrain | finetune); the other is ignored."""
    old = saved_config(run)
    other = "finetune." if section == "pretrain" else "pretrain."
    changed = {k: v for k, v in differences(old, cfg).items() if not k.startswith((other, "synth."))}
    fixed = {k: v for k, v in changed.items() if k.startswith(FIXED_ON_RESUME)}
    if fixed:
        said = ", ".join(f"{k}={new} (the run has {old_v})" for k, (old_v, new) in sorted(fixed.items()))
        raise ValueError(f"cannot resume {run} with {said}: that changes the model or its data; "
                         "resume without it (the run's config.json is used), or start a new run")
    return changed


def record_resume(run: Path | str, changed: dict[str, tuple]):
    """Log the changed settings and add them to the run's history.jsonl."""
    if not changed:
        return
    log.info("resuming %s with changed settings: %s", run, ", ".join(f"{k} {a} -> {b}" for k, (a, b) in sorted(changed.items())))
    with open(Path(run) / "history.jsonl", "a") as f:
        f.write(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                            "resumed_with": {k: {"was": a, "now": b} for k, (a, b) in changed.items()}}) + "\n")


def adopt_architecture(cfg: cfgmod.Config, source: dict, explicit: set[str], where: str) -> cfgmod.Config:
    """A copy of `cfg` with the model and normalise sections of `source` (a checkpoint's config
    dict), but `cfg`'s own dropout rates (REGULARISATION). An explicit --set that disagrees is
    refused; other differences are adopted and logged."""
    theirs = cfgmod.Config(model=cfgmod.from_dict(cfgmod.ModelConfig, source["model"]),
                           normalise=cfgmod.from_dict(cfgmod.NormaliseConfig, source["normalise"]))
    differ = {k: v for k, v in differences(cfg, theirs, ARCHITECTURE).items() if k not in REGULARISATION}
    conflicts = sorted(k for k in differ if k in explicit)
    if conflicts:
        said = ", ".join(f"{k}={differ[k][0]} (it has {differ[k][1]})" for k in conflicts)
        raise ValueError(f"--set {said} conflicts with the pre-trained encoder {where}: its architecture and "
                         "normalisation come with its weights; drop the --set, or pre-train with it")
    if differ:
        log.warning("adopted from %s: %s", where, ", ".join(f"{k}={b} (not {a})" for k, (a, b) in sorted(differ.items())))
    kept = {k.split(".", 1)[1]: getattr(cfg.model, k.split(".", 1)[1]) for k in REGULARISATION}
    log.info("fine-tuning with its own dropout rates, not the pre-training's: %s",
             ", ".join(f"model.{k}={v}" for k, v in kept.items()))
    return dataclasses.replace(cfg, model=dataclasses.replace(theirs.model, **kept), normalise=theirs.normalise)
