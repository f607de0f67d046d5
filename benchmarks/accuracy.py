"""Real-data accuracy: masa from scratch, masa pre-trained + fine-tuned, and the reference
baselines, on every real labelled task in ../shared/data (benchmarks/real_tasks.py), over seeds.

    python benchmarks/accuracy.py                      # the table in docs/results.md (~71 min fine-tuning, 2-core AMD EPYC)
    python benchmarks/accuracy.py --quick              # CI smoke test: one task, tiny budgets
    python benchmarks/accuracy.py --tasks granthgg --models masa-scratch --seeds 0 --set augment.rotate=15
    python benchmarks/accuracy.py --models masa-pretrained --pretrain-seeds 42 1   # two pre-training runs
    python benchmarks/accuracy.py --models masa-pretrained --pretrain-on task      # in-domain pre-training

Each model is a list of presets and overrides (MODELS); `--set` adds overrides to all of them.
The pre-trained model is fine-tuned from one `masa pretrain` run over all unlabelled real
poses but the tasks' test samples (`--pretrain-fraction` for the data-scale curve), or from
each of several (`--pretrain-seeds`: one run alone can decide 5-10 points); with `--pretrain-on
task`, from a run over the task's own train and val clips instead (in-domain: one run per task).
Each run is tested at its released (best-validation) epoch and at its last one (a column of its own).
Prints one line per run, the table, and the wall time in all (stores and pre-training included)
and of the fine-tuning alone; `--write-doc` puts the table into docs/results.md.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import torch  # noqa: E402
from common import machine  # noqa: E402
import real_tasks  # noqa: E402
from pretrain_runs import pretrain_all  # noqa: E402

from masa import config as cfgmod  # noqa: E402
import logging  # noqa: E402

logging.getLogger("masa").setLevel(logging.ERROR)  # the imports name each skipped sample; the table is what counts

ROOT = Path(__file__).resolve().parents[1]
# The baselines' own best recipe on WLASL100 (docs/results.md): AdamW, cosine, augmentation,
# without the preset's cutmix (with it: WLASL100 -2.3 for both, the TCN -0.5 on divyashC).
BASELINE_RECIPE = [
    "finetune.epochs=50", "finetune.num_frames=32", "finetune.optimizer=adamw", "finetune.lr=1e-3",
    "finetune.weight_decay=0.05", "finetune.schedule=cosine", "finetune.warmup_epochs=3",
    "finetune.label_smoothing=0.1", "finetune.dropout=0.3", "augment.rotate=15", "augment.scale=0.15",
    "augment.shear=0.15", "augment.shift=16", "augment.mirror=0.5", "augment.joint_drop=0.05",
    "augment.hand_drop=0.1", "augment.crop=0.75", "finetune.mix=none",
]
# name -> (presets, overrides, pre-trained?)
MODELS = {
    "masa-scratch": (["small-data"], [], False),
    "masa-pretrained": (["small-data"], [], True),
    "gru": (["small-data"], ["model.backbone=gru"], False),
    "tcn": (["small-data"], ["model.backbone=tcn"], False),
    "gru-tuned": (["small-data"], ["model.backbone=gru", *BASELINE_RECIPE], False),
    "tcn-tuned": (["small-data"], ["model.backbone=tcn", *BASELINE_RECIPE], False),
}
QUICK = ["finetune.epochs=2", "pretrain.epochs=1", "finetune.batch_size=8"]


def one_run(job: dict) -> dict:
    """Fine-tune one (task, model, seed) and test it; runs in a worker process."""
    from masa.evaluate.evaluate import evaluate
    from masa.train.finetune import finetune

    # finetune sets its own threads (0 = the free cores, which two jobs starting together both
    # take, oversubscribing the machine 2x and running several times slower): pin them instead
    cfg = cfgmod.resolve(job["presets"], [*job["overrides"], f"finetune.threads={job['threads']}"])
    start = time.perf_counter()
    result = finetune(cfg, job["store"], job["init"], job["out"], progress=False)
    row = {k: job[k] for k in ("task", "model", "seed")}
    if job["pretrain_seed"] is not None:
        row["pretrain_seed"] = job["pretrain_seed"]
    tested = evaluate(job["out"], job["store"], "test", Path(job["out"]) / "test", device="cpu", progress=False)
    row.update({k: v for k, v in tested.items() if k.startswith("top")}, best_val_top1=result["best_val_top1"],
               best_epoch=result["best_epoch"], last_top1=last_epoch_top1(job["out"], job["store"]),
               seconds=time.perf_counter() - start, threads=job["threads"])
    return row


def last_epoch_top1(run, store) -> float:
    """Test top-1 P-I of the run's last epoch (checkpoints/last.pt, its raw weights), beside the
    released epoch the validation split picked: how much a figure owes to that pick (on new
    signers, with one validation signer, much: docs/results.md)."""
    from masa import release
    from masa.data.store import PoseStore
    from masa.evaluate.evaluate import score_samples
    from masa.evaluate.metrics import topk_hits
    from masa.train import checkpoint

    model, meta = release.load(run)  # the architecture and sampling; the weights are replaced
    model.load_state_dict(checkpoint.load(Path(run) / "checkpoints" / "last.pt")["model"])
    store = PoseStore(store)
    scores, labels = score_samples(model, meta, store, store.labelled("test"))
    return float(topk_hits(scores, labels, 1).mean())


def run_key(row: dict) -> tuple:
    """What names one run: task, model, fine-tuning seed, and the pre-training seed if several."""
    return row["task"], row["model"], row["seed"], row.get("pretrain_seed")


def with_earlier(results: Path, rows: list[dict]) -> list[dict]:
    """`rows` plus the rows an earlier invocation with the same --tag wrote for other runs: a
    tag run again on other tasks adds to its table instead of replacing it."""
    if not results.exists():
        return rows
    new = {run_key(r) for r in rows}
    earlier = json.loads(results.read_text())["rows"]
    return [r for r in earlier if run_key(r) not in new] + rows


def make_jobs(args, stores: dict, pretrained_runs: dict, runs: Path) -> list[dict]:
    """One job per (task, model, fine-tuning seed), and for a pre-trained model one per
    pre-training run too: pretrained_runs maps a task to {pre-training seed (None: the
    preset's): run} (a task without runs fine-tunes its pre-trained model from scratch)."""
    jobs = []
    for task in args.tasks:
        for model in args.models:
            presets, overrides, pretrained = MODELS[model]
            mine = pretrained_runs.get(task)
            inits = mine.items() if pretrained and mine else [(None, "none")]
            for pre_seed, init in inits:
                for seed in args.seeds:
                    name = f"{task}-{model}-{seed}" if pre_seed is None else f"{task}-{model}-p{pre_seed}-{seed}"
                    jobs.append({"task": task, "model": model, "seed": seed, "pretrain_seed": pre_seed,
                                 "store": str(stores[task]), "init": str(init), "presets": presets,
                                 "overrides": overrides + args.set + [f"finetune.seed={seed}"],
                                 "out": str(runs / name), "threads": args.threads})
    return jobs


def in_order(names, order) -> list[str]:
    """The distinct names, those in `order` first and in its order (a table reads the same
    however its rows were merged), the rest as they came."""
    order = list(order)
    return sorted(dict.fromkeys(names), key=lambda n: order.index(n) if n in order else len(order))


def summarise(rows: list[dict]) -> list[dict]:
    table = []
    for task in in_order((r["task"] for r in rows), real_tasks.TASKS):
        for model in in_order((r["model"] for r in rows), MODELS):
            runs = [r for r in rows if r["task"] == task and r["model"] == model]
            if not runs:
                continue
            entry = {"task": task, "model": model, "seeds": len(runs), "threads": runs[0]["threads"],
                     "minutes": sum(r["seconds"] for r in runs) / 60}
            for k in ("top1_per_instance", "top5_per_instance", "top1_per_class", "top5_per_class", "last_top1"):
                v = np.array([r[k] for r in runs if k in r]) * 100  # runs from before 2026-12-07 have no last_top1
                entry[k] = (float(v.mean()), float(v.std())) if len(v) == len(runs) else None
            table.append(entry)
    return table


def markdown(table: list[dict]) -> str:
    lines = ["| task | model | top-1 P-I | top-5 P-I | top-1 P-C | top-5 P-C | top-1 P-I, last epoch | seeds | min (all seeds) | threads |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for e in table:
        cells = [f"{e[k][0]:.1f} ± {e[k][1]:.1f}" if e[k] else "—"
                 for k in ("top1_per_instance", "top5_per_instance", "top1_per_class", "top5_per_class", "last_top1")]
        lines.append(f"| {e['task']} | {e['model']} | " + " | ".join(cells)
                     + f" | {e['seeds']} | {e['minutes']:.1f} | {e['threads']} |")
    return "\n".join(lines)


def write_doc(text: str, doc: Path = ROOT / "docs" / "results.md"):
    begin, end = "<!-- accuracy-table:begin -->", "<!-- accuracy-table:end -->"
    old = doc.read_text()
    if begin not in old:
        raise SystemExit(f"{doc} has no {begin} marker")
    doc.write_text(old.split(begin)[0] + begin + "\n" + text + "\n" + end + old.split(end, 1)[1])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    p.add_argument("--work", type=Path, default=ROOT / "runs" / "accuracy", help="stores and runs (reused)")
    p.add_argument("--tasks", nargs="+", default=list(real_tasks.TASKS), choices=real_tasks.TASKS)
    p.add_argument("--models", nargs="+", default=["masa-scratch", "masa-pretrained", "gru", "tcn"],
                   choices=list(MODELS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="added to every model's settings")
    p.add_argument("--pretrain-set", action="append", default=[], metavar="KEY=VALUE", help="pre-training only")
    p.add_argument("--pretrain-seeds", nargs="+", type=int, default=None, metavar="SEED",
                   help="pre-train once per seed and fine-tune from each (default: one run, the preset's seed)")
    p.add_argument("--pretrain-fraction", type=float, default=1.0, help="share of the unlabelled corpus (data scale)")
    p.add_argument("--pretrain-on", choices=["corpus", "task"], default="corpus",
                   help="corpus: one run over every unlabelled real pose (the table); task: one run per task "
                        "over its own train and val clips (in-domain)")
    p.add_argument("--jobs", type=int, default=2, help="runs in parallel, in processes")
    p.add_argument("--threads", type=int, default=1, help="torch threads per run")
    p.add_argument("--quick", action="store_true", help="smoke test: one task, one seed, tiny budgets")
    p.add_argument("--tag", default="", help="name of this experiment in the output folder")
    p.add_argument("--merge", nargs="+", default=[], metavar="TAG",
                   help="add the rows of earlier runs (their --tag); TAG:gru,tcn for some models only")
    p.add_argument("--report-only", action="store_true", help="train nothing: the table of the --merge runs")
    p.add_argument("--write-doc", action="store_true", help="put the table into docs/results.md")
    args = p.parse_args(argv)
    if not (args.data / "wlasl100-hands-devtushar").exists() or not (args.data / real_tasks.WEBCAM).exists():
        raise SystemExit(f"accuracy: the real data is not at {args.data} (expected wlasl100-hands-devtushar and "
                         f"{real_tasks.WEBCAM}); pass --data")
    if args.pretrain_on == "task" and args.pretrain_fraction != 1.0:
        raise SystemExit("accuracy: --pretrain-fraction is a share of the corpus; --pretrain-on task has none")
    if args.quick:
        args.tasks = args.tasks[:1] if len(args.tasks) < len(real_tasks.TASKS) else ["asl-signers"]
        args.seeds, args.set = args.seeds[:1], args.set + QUICK
    print(machine(torch.device("cpu")).replace(f"threads {torch.get_num_threads()}",
                                               f"{args.jobs} jobs x {args.threads} threads"), flush=True)

    begun = time.perf_counter()  # the total counts the stores and the pre-training too
    if args.report_only:
        return report(args, [])
    base = cfgmod.resolve(["small-data"], args.set)
    stores = {t: real_tasks.task_store(t, args.data, args.work, base.normalise) for t in args.tasks}
    pre, trained = {}, 0  # task -> {pre-training seed: run}; how many runs were trained here
    if any(MODELS[m][2] for m in args.models):
        pre, trained = pretrain_all(args, base.normalise, stores)
    runs = args.work / "runs" / (args.tag or "default")
    jobs = make_jobs(args, stores, pre, runs)
    for job in jobs:  # a fresh run each time: finetune refuses an existing run directory
        shutil.rmtree(job["out"], ignore_errors=True)
    start = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for row in pool.map(one_run, jobs):
            rows.append(row)
            which = f" (pre-training seed {row['pretrain_seed']})" if "pretrain_seed" in row else ""
            print(f"{row['task']:<12} {row['model']:<16} seed {row['seed']}{which}: test top-1 {row['top1_per_instance']:.1%} "
                  f"(val {row['best_val_top1'] or 0:.1%}, epoch {row['best_epoch']}; last epoch {row['last_top1']:.1%}) "
                  f"in {row['seconds']:.0f} s", flush=True)
    now = time.perf_counter()
    minutes = {"before": (start - begun) / 60, "finetuning": (now - start) / 60, "total": (now - begun) / 60,
               "pretrain_runs_trained": trained}
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "results.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                                   "rows": with_earlier(runs / "results.json", rows),
                                                   "minutes": minutes}, indent=2))
    return report(args, rows, minutes)


def report(args, rows: list[dict], minutes: dict | None = None) -> list[dict]:
    """The table of these rows and those of the --merge runs; printed, and written to the doc.
    minutes: this invocation's wall time, split at the start of fine-tuning (none with --report-only)."""
    for merge in args.merge:  # TAG, or TAG:model,model for some of its models
        tag, _, models = merge.partition(":")
        earlier = json.loads((args.work / "runs" / tag / "results.json").read_text())["rows"]
        rows = rows + [r for r in earlier if not models or r["model"] in models.split(",")]
    table = summarise(rows)
    text = markdown(table)
    print(f"\n{text}\n")
    if minutes is not None:  # a total, so that a pre-training run is never left out of a timing by mistake
        print(f"wall time {minutes['total']:.1f} min in all: {minutes['before']:.1f} before fine-tuning (stores, "
              f"pre-training data, {minutes['pretrain_runs_trained']} pre-training run(s) trained here), "
              f"{minutes['finetuning']:.1f} fine-tuning")
    if args.write_doc:
        write_doc(text)
    return table


if __name__ == "__main__":
    main()
