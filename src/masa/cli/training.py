"""`masa demo | pretrain | finetune | probe | runs`: training runs and what is read from them."""
from __future__ import annotations

import json
from pathlib import Path

from masa import settings
from masa.cli.options import command_config, use_threads


def cmd_demo(args) -> int:
    from masa.demo import run_demo

    if args.threads:
        args.set = (args.set or []) + [f"pretrain.threads={args.threads}", f"finetune.threads={args.threads}"]
    path, summary = run_demo(args.out, args.set or [], progress=not args.quiet, overwrite=args.overwrite)
    print(f"\n{summary}\n\nreport: {path}")
    return 0


def cmd_pretrain(args) -> int:
    from masa.train.pretrain import pretrain

    cfg = command_config(args, "paper")
    splits = args.splits.split(",") if args.splits else None
    metrics = pretrain(cfg, args.data, args.out, resume=args.resume, splits=splits, progress=not args.quiet)
    if metrics:
        print(f"pre-training done at step {metrics['step']}: L_m {metrics['loss_m']:.4g}, L_s {metrics['loss_s']:.4g}; "
              f"checkpoints in {Path(args.out) / 'checkpoints'}")
    return 0


def cmd_finetune(args) -> int:
    from masa.train.finetune import finetune

    cfg = command_config(args, "paper")
    result = finetune(cfg, args.data, args.init, args.out, resume=args.resume, progress=not args.quiet,
                      explicit=settings.explicit_keys(args.set))
    best = result["best_val_top1"]
    print(f"fine-tuning done: {result['epochs']} epochs"
          + (f", best validation top-1 {best:.2%} at epoch {result['best_epoch']}" if best is not None else "")
          + f"; model in {Path(args.out) / 'release'}")
    return 0


def cmd_probe(args) -> int:
    from masa.evaluate.probe import format_probe, probe

    use_threads(args)
    result = probe(args.checkpoint, args.data, overrides=args.set or [])
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))
    print(format_probe(result))
    return 0


def cmd_runs_summary(args) -> int:
    from masa.evaluate.runs import format_runs, format_table, group, load_runs

    runs = load_runs(args.runs)
    groups = group(runs)
    if args.csv:
        Path(args.csv).write_text(format_table(groups, csv_out=True))
    if args.json:
        print(json.dumps([{"setup": g["name"], "kind": g["kind"], "runs": [r["path"] for r in g["runs"]],
                           "mean_std_n": g["mean"]} for g in groups], indent=2))
        return 0
    print(format_runs(runs))
    print()
    print(format_table(groups))
    return 0


def cmd_runs_plot(args) -> int:
    from masa.evaluate.runs import load_runs, plot_runs

    print(f"wrote {plot_runs(load_runs(args.runs), args.out)}")
    return 0
