"""`masa runs summary|plot`: what a set of training runs did, and the mean over seeds.

A run is a folder written by `masa pretrain` or `masa finetune` (config.json, metrics.jsonl,
run.json). An evaluation folder (`masa evaluate --out`, its metrics.json) given beside its run
adds the test figures to that run. Runs whose settings differ only in seeds (and threads,
device, workers) are one setup: the summary gives each setup's mean ± std over its runs.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from masa.files import read_jsonl
from masa.settings import flat
from masa.train.finetune import kept_rank
from masa.train.rundir import run_kind

IGNORED = ("pretrain.seed", "finetune.seed", "pretrain.threads", "finetune.threads", "pretrain.device",
           "finetune.device", "pretrain.num_workers", "finetune.num_workers", "synth.")
HIGHLIGHTS = {"finetune": ("model.backbone", "model.size", "finetune.epochs", "finetune.lr", "finetune.batch_size",
                           "finetune.num_frames", "finetune.labels_per_class", "finetune.seed"),
              "pretrain": ("model.size", "pretrain.epochs", "pretrain.lr", "pretrain.batch_size", "pretext.mask_ratio",
                           "pretrain.seed")}
FIGURES = {"finetune": ("best_val_top1", "final_train_top1", "final_loss", "test_top1", "test_top5", "minutes"),
           "pretrain": ("final_loss_m", "final_loss_s", "steps", "minutes")}


def read_run(path: Path | str) -> dict:
    """-> {'path', 'kind', 'settings' (flat), 'started_on' (run.json), 'rows', 'figures', 'best_epoch'}."""
    path = Path(path)
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"{path} is not a training run (no config.json)")
    settings = flat(json.loads((path / "config.json").read_text()))
    rows = read_jsonl(path / "metrics.jsonl")
    if not rows:
        raise ValueError(f"{path} has no metrics.jsonl lines yet: nothing to summarise")
    started = json.loads((path / "run.json").read_text()) if (path / "run.json").exists() else {}
    kind = started.pop("kind", None) or run_kind(path)  # runs older than run.json's "kind"
    last = rows[-1]
    figures: dict[str, float] = {"minutes": last["time"] / 60} if "time" in last else {}
    best_epoch = None
    if kind == "finetune":
        figures.update(final_train_top1=last["train_top1"], final_loss=last["loss"], epochs_done=last["epoch"] + 1)
        if any("val_top1" in r for r in rows):
            best = max((r for r in rows if "val_top1" in r), key=kept_rank)  # the epoch fine-tuning released
            figures["best_val_top1"], best_epoch = best["val_top1"], best["epoch"] + 1
    else:
        figures.update(final_loss_m=last["loss_m"], final_loss_s=last["loss_s"], steps=last["step"])
    return {"path": str(path), "kind": kind, "settings": settings, "started_on": started, "rows": rows,
            "figures": figures, "best_epoch": best_epoch}


def attach_evaluations(runs: list[dict], evaluations: list[Path]) -> None:
    """Add test top-1/top-5 of each evaluation folder to the run it evaluated."""
    by_path = {Path(r["path"]).resolve(): r for r in runs}
    for folder in evaluations:
        m = json.loads((folder / "metrics.json").read_text())
        checkpoint = Path(m.get("checkpoint", "")).resolve()
        run = by_path.get(checkpoint) or by_path.get(checkpoint.parent)  # a run, or its release/ folder
        if run is None:
            raise ValueError(f"{folder} evaluated {m.get('checkpoint')}, which is not among the runs given")
        run["figures"]["test_top1"], run["figures"]["test_top5"] = m["top1_per_instance"], m["top5_per_instance"]


def load_runs(paths: list[Path | str]) -> list[dict]:
    """Training runs and evaluation folders, in any order -> the runs, with test figures attached."""
    paths = [Path(p) for p in paths]
    evaluations = [p for p in paths if (p / "metrics.json").exists() and not (p / "config.json").exists()]
    runs = [read_run(p) for p in paths if p not in evaluations]
    attach_evaluations(runs, evaluations)
    return runs


def setup_of(run: dict) -> tuple:
    """The settings that define a setup: all but seeds, threads, device and workers, plus the
    data and the initial weights."""
    keys = {k: v for k, v in run["settings"].items() if not k.startswith(IGNORED)}
    keys.update({f"run.{k}": v for k, v in run["started_on"].items()})
    return tuple(sorted((k, json.dumps(v)) for k, v in keys.items()))


def group(runs: list[dict]) -> list[dict]:
    """-> one entry per setup: {'name', 'kind', 'runs', 'mean': {figure: (mean, std)}}. The name is
    made of the settings in which the setups differ."""
    setups: dict[tuple, list[dict]] = {}
    for run in runs:
        setups.setdefault((run["kind"], setup_of(run)), []).append(run)
    varying = set()
    keys = [dict(s) for _, s in setups]
    for k in set().union(*keys) if keys else ():
        if len({d.get(k) for d in keys}) > 1:
            varying.add(k)
    out = []
    for (kind, setup), members in setups.items():
        d = dict(setup)
        name = ", ".join(f"{k.removeprefix('run.')}={json.loads(d[k]) if k in d else '-'}" for k in sorted(varying))
        mean = {}
        for fig in FIGURES[kind]:
            values = np.array([r["figures"][fig] for r in members if fig in r["figures"]], float)
            if len(values):
                mean[fig] = (float(values.mean()), float(values.std()), len(values))
        out.append({"name": name or Path(members[0]["path"]).name, "kind": kind, "runs": members, "mean": mean})
    return out


def _cell(fig: str, value: float) -> str:
    return f"{100 * value:.1f}" if "top" in fig else f"{value:.3g}"


def format_runs(runs: list[dict]) -> str:
    """One block per run: highlights, best epoch, final figures, time."""
    lines = []
    for r in runs:
        s = r["settings"]
        lines.append(f"{r['path']} ({r['kind']}" + (f", init {r['started_on']['init']}" if r["started_on"].get("init") else "")
                     + ")")
        lines.append("  " + "  ".join(f"{k.split('.', 1)[1]}={s[k]}" for k in HIGHLIGHTS[r["kind"]] if k in s))
        figs = "  ".join(f"{k} {_cell(k, v)}" for k, v in r["figures"].items())
        best = f"best epoch {r['best_epoch']}  " if r["best_epoch"] else ""
        lines.append(f"  {best}{figs}")
    return "\n".join(lines)


def format_table(groups: list[dict], csv_out: bool = False) -> str:
    """mean ± std over each setup's runs, as Markdown (or CSV: mean and std columns). Accuracies
    are in %."""
    figures = list(dict.fromkeys(f for g in groups for f in g["mean"]))
    if csv_out:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["setup", "kind", "runs"] + [f"{f}_{x}" for f in figures for x in ("mean", "std")])
        for g in groups:
            w.writerow([g["name"], g["kind"], len(g["runs"])]
                       + [f"{v:.6g}" if v is not None else "" for f in figures
                          for v in (g["mean"][f][:2] if f in g["mean"] else (None, None))])
        return buf.getvalue()
    lines = ["| setup | kind | runs | " + " | ".join(figures) + " |", "|---|---|---|" + "---|" * len(figures)]
    for g in groups:
        cells = [f"{_cell(f, g['mean'][f][0])} ± {_cell(f, g['mean'][f][1])}" if f in g["mean"] else "" for f in figures]
        lines.append(f"| {g['name']} | {g['kind']} | {len(g['runs'])} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_runs(runs: list[dict], out: Path | str) -> Path:
    """Loss and accuracy curves of the runs, one line per run, axes labelled."""
    from masa.evaluate.report import _pyplot

    plt = _pyplot()
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(11, 4))
    for r in runs:
        name = Path(r["path"]).name
        if r["kind"] == "pretrain":
            x = [row["step"] for row in r["rows"]]
            loss_ax.plot(x, [row["loss"] for row in r["rows"]], label=f"{name} (pre-training, per step)")
            continue
        x = [row["epoch"] + 1 for row in r["rows"]]
        loss_ax.plot(x, [row["loss"] for row in r["rows"]], label=name)
        line, = acc_ax.plot(x, [100 * row["train_top1"] for row in r["rows"]], "--", label=f"{name} train")
        if any("val_top1" in row for row in r["rows"]):
            acc_ax.plot(x, [100 * row.get("val_top1", np.nan) for row in r["rows"]], color=line.get_color(),
                        label=f"{name} validation")
    loss_ax.set(title="training loss", xlabel="epoch (fine-tuning) or step (pre-training)", ylabel="loss")
    acc_ax.set(title="top-1 accuracy", xlabel="epoch", ylabel="top-1 (%)")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
