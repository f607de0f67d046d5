"""The `masa` command: parse, resolve the config, call the library."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from masa import config as cfgmod

log = logging.getLogger("masa")

PENDING = {  # commands whose issue has not landed yet
    "finetune": "fine-tuning (issue #4)",
    "evaluate": "evaluation (issue #4)",
    "predict": "prediction (issue #4)",
    "export": "model export (issue #4)",
    "fuse": "late score fusion (issue #4)",
}


def _size(text: str) -> tuple[float, float]:
    try:
        w, h = (float(v) for v in text.lower().replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 1280x720, got {text!r}") from None
    return w, h


def _config(args) -> cfgmod.Config:
    presets = [p for text in (getattr(args, "preset", None) or []) for p in text.split(",") if p]
    try:
        return cfgmod.resolve(presets, getattr(args, "set", None) or [], getattr(args, "config", None) or [])
    except ValueError as err:
        raise SystemExit(f"masa: {err}")


def _add_config_options(p, default_preset: str | None = None):
    p.add_argument("--preset", action="append", default=[default_preset] if default_preset else None,
                   help=f"named settings, applied in order ({', '.join(cfgmod.PRESETS)})"
                        + (f"; default {default_preset}" if default_preset else ""))
    p.add_argument("--config", action="append", metavar="FILE.json", help="settings from a JSON file (a run's config.json)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="one setting, e.g. pretrain.epochs=100")


# --- masa data ----------------------------------------------------------------------------
def cmd_data_import(args) -> int:
    from masa.data.ingest import ImportFailed, import_samples
    from masa.poses import ImportOptions, find_samples
    from masa.poses.labels import read_labels

    cfg = _config(args)
    options = ImportOptions(image_size=args.image_size, mirrored=args.mirrored, holistic_order=args.holistic_order,
                            layout=args.layout, person=args.person)
    labels = read_labels(args.labels, args.class_list, args.subset) if args.labels else None
    meta = {"importer": {"format": args.format, "source": str(args.src), "labels": args.labels or [],
                         "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()}}}
    try:
        report = import_samples(find_samples(args.src, args.format, options), args.out, cfg.normalise, labels,
                                strict=args.strict, overwrite=args.overwrite, meta=meta, progress=not args.quiet)
    except (ImportFailed, FileNotFoundError, FileExistsError, ValueError) as err:
        print(f"masa data import: {err}", file=sys.stderr)
        return 1
    _print_import_report(report, args.out)
    return 0


def _print_import_report(report: dict, out, show: int = 20):
    skipped = report["skipped"]
    print(f"imported {report['imported']} samples into {out}; skipped {len(skipped)}")
    for s in skipped[:show]:
        print(f"  skipped {s['source']}: sample {s['id']}: {s['reason']}")
    if len(skipped) > show:
        print(f"  ... and {len(skipped) - show} more, all listed in {out}/import_report.json")
    if report.get("labelled_but_not_found"):
        print(f"note: {report['labelled_but_not_found']} labelled samples had no pose file")
    if report.get("image_size_estimated"):
        print(f"note: the image size of {report['image_size_estimated']} samples was estimated from the keypoints; "
              "pass --image-size WxH if you know it")


def cmd_data_info(args) -> int:
    from masa.data.info import format_summary, summarise
    from masa.data.store import PoseStore, StoreError

    try:
        summary = summarise(PoseStore(args.store))
    except StoreError as err:
        print(f"masa data info: {err}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary, 10**9 if args.all else 30))
    return 0


def cmd_data_synth(args) -> int:
    from masa.data.ingest import import_samples
    from masa.data.synth import synthesise

    cfg = _config(args)
    sources, labels = synthesise(cfg.synth)
    meta = {"importer": {"format": "synth", "synth": cfgmod.to_dict(cfg.synth)}}
    report = import_samples(sources, args.out, cfg.normalise, labels, overwrite=args.overwrite, meta=meta,
                            progress=not args.quiet)
    _print_import_report(report, args.out)
    return 0


def cmd_demo(args) -> int:
    """Until fine-tuning lands (issue #4): build the embedded synthetic store and describe it."""
    from masa.data.info import format_summary, summarise
    from masa.data.store import PoseStore

    out = Path(args.out)
    store = out / "synth-store"
    args.overwrite, args.quiet = True, False
    cmd_data_synth(argparse.Namespace(**{**vars(args), "out": store}))
    print(format_summary(summarise(PoseStore(store))))
    print("\nPre-training, fine-tuning and the report join the demo with issues #3 and #4.")
    return 0


def cmd_pretrain(args) -> int:
    from masa.train.pretrain import NonFiniteLoss, pretrain

    cfg = _config(args)
    splits = args.splits.split(",") if args.splits else None
    try:
        metrics = pretrain(cfg, args.data, args.out, resume=args.resume, splits=splits, progress=not args.quiet)
    except (FileExistsError, FileNotFoundError, ValueError, NonFiniteLoss) as err:
        print(f"masa pretrain: {err}", file=sys.stderr)
        return 1
    if metrics:
        print(f"pre-training done at step {metrics['step']}: L_m {metrics['loss_m']:.4g}, L_s {metrics['loss_s']:.4g}; "
              f"checkpoints in {Path(args.out) / 'checkpoints'}")
    return 0


def cmd_pending(args) -> int:
    print(f"masa {args.command}: {PENDING[args.command]} is not available in this version yet.", file=sys.stderr)
    return 2


# --- parser -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="masa", description="Sign language recognition from pose keypoints (MASA).")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging (tracebacks of skipped samples)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    data = sub.add_parser("data", help="import, inspect and synthesise pose data")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    imp = dsub.add_parser("import", help="estimator output -> packed store")
    imp.add_argument("src", type=Path, help="a file or folder of pose files")
    imp.add_argument("--format", required=True,
                     help="coco-wholebody (mmpose, rtmpose, rtmw, dwpose), mediapipe-holistic, mediapipe-hands, openpose, pose, npz")
    imp.add_argument("--out", required=True, type=Path, help="the store to create")
    imp.add_argument("--labels", nargs="+", metavar="FILE[:split]",
                     help="CSV (file,label[,split][,signer]), nslt_N.json, WLASL_v0.3.json, MSASL_*.json or list files")
    imp.add_argument("--class-list", type=Path, help="class names, one per line or 'index name'")
    imp.add_argument("--subset", type=int, help="WLASL_v0.3 / MS-ASL: keep the first N classes")
    imp.add_argument("--image-size", type=_size, help="frame size WxH when the files do not say")
    imp.add_argument("--mirrored", action="store_true", help="selfie video: swap hand assignment (mediapipe-hands)")
    imp.add_argument("--holistic-order", default="pose,face,left,right", help="component order of 543-landmark arrays")
    imp.add_argument("--layout", type=Path, help="layout JSON for --format npz")
    imp.add_argument("--person", choices=("score", "largest"), default="score", help="which detected person is the signer")
    imp.add_argument("--strict", action="store_true", help="fail on the first bad sample instead of skipping it")
    imp.add_argument("--overwrite", action="store_true", help="replace an existing store (only once the new one is complete)")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override, e.g. normalise.max_frames=200")
    imp.set_defaults(func=cmd_data_import)

    info = dsub.add_parser("info", help="counts, lengths and missing hands of a store")
    info.add_argument("store", type=Path)
    info.add_argument("--json", action="store_true")
    info.add_argument("--all", action="store_true", help="list every class")
    info.set_defaults(func=cmd_data_info)

    syn = dsub.add_parser("synth", help="write the synthetic sign corpus as a store")
    syn.add_argument("--out", required=True, type=Path)
    syn.add_argument("--overwrite", action="store_true")
    syn.add_argument("--quiet", action="store_true")
    syn.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. synth.num_classes=10")
    syn.set_defaults(func=cmd_data_synth)

    pre = sub.add_parser("pretrain", help="MASA self-supervised pre-training on one or more stores")
    pre.add_argument("--data", nargs="+", required=True, type=Path, help="stores (their non-test samples, see --splits)")
    pre.add_argument("--out", required=True, type=Path, help="run directory")
    pre.add_argument("--splits", help="comma-separated splits to use (default: every split but test)")
    pre.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    pre.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_config_options(pre, default_preset="paper")
    pre.set_defaults(func=cmd_pretrain)

    demo = sub.add_parser("demo", help="the whole pipeline on the embedded synthetic data")
    demo.add_argument("--out", default="runs/demo", type=Path)
    demo.add_argument("--set", action="append", metavar="KEY=VALUE")
    demo.set_defaults(func=cmd_demo)

    for name, what in PENDING.items():
        sp = sub.add_parser(name, help=f"{what} [not available yet]")
        sp.add_argument("rest", nargs=argparse.REMAINDER)
        sp.set_defaults(func=cmd_pending)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
