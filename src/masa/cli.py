"""The `masa` command: parse, resolve the config, call the library."""
from __future__ import annotations

import argparse
import errno
import json
import logging
import sys
from pathlib import Path

from masa import config as cfgmod
from masa import settings
from masa.extract.video import VIDEO_SUFFIXES, camera_or_path
from masa.extras import MissingExtra
from masa.files import atomic_open
from masa.poses import ALIASES, FORMATS, format_help
from masa.train.errors import NonFiniteLoss

POSE_FORMATS = [*FORMATS, *ALIASES]


def _size(text: str) -> tuple[float, float]:
    try:
        w, h = (float(v) for v in text.lower().replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 1280x720, got {text!r}") from None
    return w, h


def _config(args, default_preset: str | None = None) -> cfgmod.Config:
    """The command's settings: defaults, presets, --config files, then --set. A --resume starts
    from the run's own config.json instead of the defaults and the default preset."""
    presets = [p for text in (getattr(args, "preset", None) or []) for p in text.split(",") if p]
    overrides = list(getattr(args, "set", None) or [])
    if args.command in ("pretrain", "finetune") and args.threads is not None:  # the command's own section
        overrides.append(f"{args.command}.threads={args.threads}")
    try:
        if getattr(args, "resume", False):
            return settings.for_resume(args.out, presets, overrides, getattr(args, "config", None) or [])
        return cfgmod.resolve(presets or ([default_preset] if default_preset else []), overrides,
                              getattr(args, "config", None) or [])
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"masa: {err}")


def _add_config_options(p, default_preset: str | None = None):
    p.add_argument("--preset", action="append",
                   help=f"named settings, applied in order ({', '.join(cfgmod.PRESETS)})"
                        + (f"; default {default_preset} (with --resume: the run's own settings)" if default_preset else ""))
    p.add_argument("--config", action="append", metavar="FILE.json", help="settings from a JSON file (a run's config.json)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="one setting, e.g. pretrain.epochs=100")
    p.add_argument("--threads", type=int, metavar="N",
                   help="CPU threads for torch (default: the free cores, i.e. the cores less the machine's load); "
                        "recorded in the run's config.json")


# --- masa data ----------------------------------------------------------------------------
def cmd_data_import(args) -> int:
    from masa.data.ingest import ImportFailed, import_samples, refuse_unsafe_out
    from masa.poses import ImportOptions, find_samples, found_nothing
    from masa.poses.labels import read_labels

    cfg = _config(args)
    options = ImportOptions(image_size=args.image_size, mirrored=args.mirrored, holistic_order=args.holistic_order,
                            layout=args.layout, person=args.person)
    meta = {"importer": {"format": args.format, "source": str(args.src), "labels": args.labels or [],
                         "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(options).items()}}}
    try:
        refuse_unsafe_out(args.src, args.out)
        labels = read_labels(args.labels, args.class_list, args.subset) if args.labels else None
        sources = list(find_samples(args.src, args.format, options))
        if not sources:
            raise ImportFailed(found_nothing(args.src, args.format))
        report = import_samples(sources, args.out, cfg.normalise, labels,
                                strict=args.strict, overwrite=args.overwrite, meta=meta, progress=not args.quiet)
    except (ImportFailed, OSError, ValueError) as err:
        print(f"masa data import: {describe_error(err)}", file=sys.stderr)
        return 1
    _print_import_report(report, args.out)
    return 0


def describe_error(err: BaseException) -> str:
    """One line for a user error; a full disk is named as such."""
    if isinstance(err, OSError) and err.errno == errno.ENOSPC:
        where = f" while writing {err.filename}" if err.filename else ""
        return f"no space left on device{where}: free some space and run again (nothing half-written was kept)"
    return str(err) or type(err).__name__


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
    if report.get("normalised_without_size"):
        print(f"warning: {report['normalised_without_size']} samples have normalised coordinates (0-1 shares of the "
              "frame's width and height) and no --image-size: they were read as a square frame, which distorts the "
              "body of a non-square video (16:9 stretches its heights by 1.78 against its widths); "
              "pass --image-size WxH of the videos (e.g. 1280x720)")
    if report.get("outside_image"):
        print(f"warning: {report['outside_image']} samples have keypoints outside their image: "
              "are they of another size than --image-size (or the size in their files)?")
    if report.get("single_frame"):
        print(f"warning: {report['single_frame']} samples have a single frame: they carry no motion to pre-train on")
    hands = report.get("no_hand_detected", 0)
    if hands:
        print(f"{'warning' if hands > report['imported'] / 2 else 'note'}: {hands} of {report['imported']} samples "
              "have no detected hand in any frame (their hands are cropped from the arms): "
              "check --format, --holistic-order or the estimator's hand model")


def cmd_data_info(args) -> int:
    from masa.data.info import format_summary, summarise
    from masa.data.store import PoseStore

    summary = summarise(PoseStore(args.store))  # a StoreError is main()'s one line
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
    from masa.demo import run_demo

    if args.threads:
        args.set = (args.set or []) + [f"pretrain.threads={args.threads}", f"finetune.threads={args.threads}"]
    path, summary = run_demo(args.out, args.set or [], progress=not args.quiet, overwrite=args.overwrite)
    print(f"\n{summary}\n\nreport: {path}")
    return 0


def cmd_pretrain(args) -> int:
    from masa.train.pretrain import pretrain

    cfg = _config(args, "paper")
    splits = args.splits.split(",") if args.splits else None
    metrics = pretrain(cfg, args.data, args.out, resume=args.resume, splits=splits, progress=not args.quiet)
    if metrics:
        print(f"pre-training done at step {metrics['step']}: L_m {metrics['loss_m']:.4g}, L_s {metrics['loss_s']:.4g}; "
              f"checkpoints in {Path(args.out) / 'checkpoints'}")
    return 0


def cmd_finetune(args) -> int:
    from masa.train.finetune import finetune

    cfg = _config(args, "paper")
    result = finetune(cfg, args.data, args.init, args.out, resume=args.resume, progress=not args.quiet,
                      explicit=settings.explicit_keys(args.set))
    best = result["best_val_top1"]
    print(f"fine-tuning done: {result['epochs']} epochs"
          + (f", best validation top-1 {best:.2%} at epoch {result['best_epoch']}" if best is not None else "")
          + f"; model in {Path(args.out) / 'release'}")
    return 0


def _groups(items):
    from masa.evaluate.metrics import NMFS_CSL_GROUPS

    groups = {}
    for item in items or []:
        if item == "nmfs-csl":
            groups.update(NMFS_CSL_GROUPS)
            continue
        try:
            name, rng = item.split("=")
            lo, hi = (int(v) for v in rng.split("-"))
        except ValueError:
            raise SystemExit(f"masa evaluate: --groups takes NAME=LO-HI or nmfs-csl, got {item!r}")
        groups[name] = (lo, hi)
    return groups


def _threads(args):
    from masa.device import set_threads

    set_threads(args.threads or 0)


def cmd_evaluate(args) -> int:
    from masa.evaluate.evaluate import evaluate, format_metrics

    _threads(args)
    m = evaluate(args.checkpoint, args.data, args.split, args.out, clips=args.clips, groups=_groups(args.groups),
                 progress=not args.quiet)
    print(format_metrics(m))
    return 0


def cmd_predict(args) -> int:
    from masa.poses import ImportOptions
    from masa.predict import format_predictions, predict_files

    _threads(args)
    options = ImportOptions(image_size=args.image_size, mirrored=args.mirrored)
    if args.stream or args.camera is not None:
        return predict_stream(args, options)
    if not args.files:
        raise ValueError("give pose files, videos or folders to predict (or --camera N)")
    results = predict_files(args.checkpoint, args.files, args.format, options, top_k=args.top_k)
    print(json.dumps(results, indent=2) if args.json else format_predictions(results))
    return 1 if results and all("error" in r for r in results) else 0


def predict_stream(args, options) -> int:
    """Glosses over time for one video (--stream) or a camera (--camera), printed as they come and
    written as JSON (start, end, top-k) to --out."""
    from masa.predict import Predictor
    from masa.stream import format_window, stream

    if args.camera is not None and args.files:
        raise ValueError("give either --camera or a video, not both")
    if args.camera is None and len(args.files) != 1:
        raise ValueError(f"--stream reads one video; got {len(args.files)} inputs")
    source = camera_or_path(args.camera if args.camera is not None else args.files[0])
    name = f"camera{source}" if isinstance(source, int) else Path(source).stem
    out = args.out or Path(f"{name}.glosses.json")
    predictor = Predictor(args.checkpoint, top_k=args.top_k)
    windows = []
    try:
        for entry in stream(predictor, source, args.window, args.stride, options):
            windows.append(entry)
            print(json.dumps(entry) if args.json else format_window(entry), flush=True)
    except KeyboardInterrupt:  # a camera runs until stopped: keep what was seen
        pass
    with atomic_open(out) as f:
        json.dump({"source": str(source), "window": args.window, "stride": args.stride, "windows": windows}, f, indent=1)
    print(f"wrote {len(windows)} windows to {out}", file=sys.stderr)
    return 0 if windows else 1


def cmd_extract(args) -> int:
    from masa.extract.extract import extract

    def report(outcome):
        if outcome.error:
            print(f"masa extract: {outcome.error}", file=sys.stderr)

    summary = extract(args.sources, args.out, args.workers, args.overwrite, progress=not args.quiet, on_outcome=report)
    frames = sum(o.frames for o in summary.done)
    seconds = sum(o.seconds for o in summary.done)
    print(f"extracted {len(summary.done)} videos ({frames} frames, {frames / max(seconds, 1e-9):.1f} frames/s per process) "
          f"into {args.out}; skipped {len(summary.skipped)} already there"
          + (" (--overwrite to redo)" if summary.skipped else "") + f"; {len(summary.failed)} failed")
    return 1 if summary.failed and not summary.done and not summary.skipped else 0


def cmd_export(args) -> int:
    from masa.export import export

    path = export(args.checkpoint, args.format, args.out)
    print(f"exported {path} (classes and input format in {path.with_suffix('.json')})")
    return 0


def cmd_fuse(args) -> int:
    from masa.evaluate.fusion import fuse

    result = fuse(tuple(args.val), tuple(args.test), steps=args.steps)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))
    t = result["test"]
    print(f"weight of the first model {result['weight_a']:.2f} (validation top-1 {result['val_top1']:.2%})")
    print(f"fused test: top-1 {t['top1_per_instance']:.2%}  top-5 {t['top5_per_instance']:.2%}  "
          f"per class top-1 {t['top1_per_class']:.2%}")
    print(f"alone: first {result['test_a']['top1_per_instance']:.2%}, second {result['test_b']['top1_per_instance']:.2%}")
    return 0


def cmd_probe(args) -> int:
    from masa.evaluate.probe import format_probe, probe

    _threads(args)
    result = probe(args.checkpoint, args.data, overrides=args.set or [])
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))
    print(format_probe(result))
    return 0


def cmd_show(args) -> int:
    from masa.evaluate.show import load_frames, render_gif, strategy_masks

    if Path(args.target).suffix.lower() in VIDEO_SUFFIXES:
        from masa.extract.overlay import render_overlay

        out, n = render_overlay(args.target, args.out)
        print(f"wrote {out} ({n} frames with the extracted skeleton)")
        return 0
    cfg = _config(args)
    try:
        frames, title = load_frames(args.target, args.format, args.image_size, cfg.normalise)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"masa show: {err}", file=sys.stderr)
        return 1
    masks = strategy_masks(frames, cfg.pretext) if args.masks else None
    print(f"wrote {render_gif(frames, args.out, title, masks)}")
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


# --- parser -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="masa", description="Sign language recognition from pose keypoints (MASA).")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging (tracebacks of skipped samples)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    data = sub.add_parser("data", help="import, inspect and synthesise pose data")
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    imp = dsub.add_parser("import", help="estimator output -> packed store")
    imp.add_argument("src", type=Path, help="a file or folder of pose files")
    imp.add_argument("--format", required=True, choices=POSE_FORMATS, metavar="FORMAT", help=format_help())
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
    imp.add_argument("--preset", action="append", help=f"named settings whose normalise.* apply ({', '.join(cfgmod.PRESETS)})")
    imp.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override, e.g. normalise.max_frames=200")
    imp.set_defaults(func=cmd_data_import)

    info = dsub.add_parser("info", help="counts, lengths and missing hands of a store")
    info.add_argument("store", type=Path, help="a store written by masa data import or synth")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.add_argument("--all", action="store_true", help="list every class")
    info.set_defaults(func=cmd_data_info)

    syn = dsub.add_parser("synth", help="write the synthetic sign corpus as a store")
    syn.add_argument("--out", required=True, type=Path, help="the store to create")
    syn.add_argument("--overwrite", action="store_true", help="replace an existing store")
    syn.add_argument("--quiet", action="store_true", help="no progress bar")
    syn.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. synth.num_classes=10")
    syn.set_defaults(func=cmd_data_synth)

    pre = sub.add_parser("pretrain", help="MASA self-supervised pre-training on one or more stores")
    pre.add_argument("--data", nargs="+", required=True, type=Path, help="stores (their non-test samples, see --splits)")
    pre.add_argument("--out", required=True, type=Path, help="run directory")
    pre.add_argument("--splits", help="comma-separated splits to use (default: every split but test)")
    pre.add_argument("--resume", action="store_true",
                     help="continue the run in --out from its last checkpoint, under its own config.json")
    pre.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    _add_config_options(pre, default_preset="paper")
    pre.set_defaults(func=cmd_pretrain)

    fin = sub.add_parser("finetune", help="train a sign classifier from a pre-trained encoder (or from scratch)")
    fin.add_argument("--data", required=True, type=Path, help="a labelled store")
    fin.add_argument("--init", required=True, help="a pre-training run directory or checkpoint, or 'none' (from scratch)")
    fin.add_argument("--out", required=True, type=Path, help="run directory (the model goes to OUT/release)")
    fin.add_argument("--resume", action="store_true",
                     help="continue the run in --out from its last checkpoint, under its own config.json")
    fin.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    _add_config_options(fin, default_preset="paper")
    fin.set_defaults(func=cmd_finetune)

    ev = sub.add_parser("evaluate", help="Top-1/Top-5 per instance and per class, confusion matrix, saved scores")
    ev.add_argument("--checkpoint", required=True, type=Path, help="a release folder or fine-tuning run directory")
    ev.add_argument("--data", required=True, type=Path, help="a labelled store with the same classes as the model")
    ev.add_argument("--split", default="test", help="the split to score (default: test)")
    ev.add_argument("--out", required=True, type=Path, help="metrics.json path or a folder")
    ev.add_argument("--clips", type=int, default=1, help="average this many test-time samplings")
    ev.add_argument("--groups", nargs="+", metavar="NAME=LO-HI", help="metrics by label range; 'nmfs-csl' for confusing/normal/total")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: the free cores)")
    ev.set_defaults(func=cmd_evaluate)

    fu = sub.add_parser("fuse", help="late fusion of two models' class scores, weight chosen on validation")
    fu.add_argument("--val", nargs=2, required=True, metavar=("A", "B"), help="validation scores of both models")
    fu.add_argument("--test", nargs=2, required=True, metavar=("A", "B"), help="test scores of both models")
    fu.add_argument("--steps", type=int, default=21, help="weights tried between 0 and 1")
    fu.add_argument("--out", type=Path, help="write the result as JSON")
    fu.set_defaults(func=cmd_fuse)

    pr = sub.add_parser("predict", help="top-k glosses for pose files or folders")
    pr.add_argument("--checkpoint", required=True, type=Path, help="a release folder or fine-tuning run directory")
    pr.add_argument("files", nargs="*", type=Path, help="pose files, videos (needs masa[video]) or folders of them")
    pr.add_argument("--format", choices=POSE_FORMATS, metavar="FORMAT",
                    help="importer format, as for data import (default: from the file name)")
    pr.add_argument("--image-size", type=_size, help="frame size WxH when the files do not say")
    pr.add_argument("--mirrored", action="store_true", help="selfie video: swap hand assignment (mediapipe-hands)")
    pr.add_argument("--top-k", type=int, default=5, help="how many glosses to list per sample (default 5)")
    pr.add_argument("--json", action="store_true", help="print JSON instead of lines")
    pr.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: the free cores)")
    pr.add_argument("--stream", action="store_true", help="one long video: glosses over time in sliding windows")
    pr.add_argument("--camera", metavar="N", help="a live camera, by index (0 = the first webcam); a video path stands in for one")
    pr.add_argument("--window", type=int, default=32, metavar="FRAMES", help="--stream/--camera: frames per window (default 32)")
    pr.add_argument("--stride", type=int, default=8, metavar="FRAMES", help="--stream/--camera: frames between windows (default 8)")
    pr.add_argument("--out", type=Path, help="--stream/--camera: the JSON of windows (default: NAME.glosses.json here)")
    pr.set_defaults(func=cmd_predict)

    xt = sub.add_parser("extract", help="videos -> one .pose file each (MediaPipe Holistic; needs masa[video])")
    xt.add_argument("sources", nargs="+", type=Path, help="videos or folders of videos")
    xt.add_argument("--out", required=True, type=Path, help="folder for the .pose files (a folder's structure is kept)")
    xt.add_argument("--workers", type=int, default=1, metavar="N", help="videos extracted in parallel, one process each")
    xt.add_argument("--overwrite", action="store_true", help="redo videos whose .pose exists (default: skip them)")
    xt.add_argument("--quiet", action="store_true", help="no progress bars")
    xt.set_defaults(func=cmd_extract)

    ex = sub.add_parser("export", help="a model that runs without masa (ONNX or TorchScript)")
    ex.add_argument("--checkpoint", required=True, type=Path, help="a release folder or fine-tuning run directory")
    ex.add_argument("--format", required=True, choices=("onnx", "torchscript"),
                    help="onnx (needs masa[export]) or torchscript")
    ex.add_argument("--out", type=Path, help="output file (default: beside the checkpoint)")
    ex.set_defaults(func=cmd_export)

    pb = sub.add_parser("probe", help="linear-probe and k-NN top-1 of a frozen pre-trained encoder (and of a random one)")
    pb.add_argument("--checkpoint", required=True, type=Path, help="a pre-training run directory or checkpoint")
    pb.add_argument("--data", required=True, type=Path, help="a labelled store with a train split and a test (or val) split")
    pb.add_argument("--out", type=Path, help="write the result as JSON")
    pb.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. finetune.num_frames=64")
    pb.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: the free cores)")
    pb.set_defaults(func=cmd_probe)

    sh = sub.add_parser("show", help="render a sign as a skeleton animation (GIF), or a video with its extracted skeleton")
    sh.add_argument("target", help="a pose file, STORE:SAMPLE (id or index), or a video (drawn over its frames)")
    sh.add_argument("--out", required=True, type=Path, help="the GIF to write (a video target: .gif or .mp4)")
    sh.add_argument("--masks", action="store_true", help="mark the frames each masking strategy would mask")
    sh.add_argument("--format", choices=POSE_FORMATS, metavar="FORMAT",
                    help="importer format of a pose file, as for data import (default: from the file name)")
    sh.add_argument("--image-size", type=_size, help="frame size WxH when the file does not say")
    sh.add_argument("--preset", action="append", help=f"named settings whose normalise.* and pretext.* apply ({', '.join(cfgmod.PRESETS)})")
    sh.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. pretext.mask_ratio=0.75 for --masks")
    sh.set_defaults(func=cmd_show)

    runs = sub.add_parser("runs", help="summarise and plot training runs (mean ± std over seeds)")
    rsub = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    summ = rsub.add_parser("summary", help="per run: settings, best epoch, final figures, time; per setup: mean ± std")
    summ.add_argument("runs", nargs="+", type=Path, help="run directories, and evaluation folders to add test figures")
    summ.add_argument("--csv", type=Path, help="also write the per-setup table as CSV")
    summ.add_argument("--json", action="store_true", help="print the per-setup table as JSON")
    summ.set_defaults(func=cmd_runs_summary)
    rplot = rsub.add_parser("plot", help="loss and accuracy curves of runs, as one PNG")
    rplot.add_argument("runs", nargs="+", type=Path, help="run directories")
    rplot.add_argument("--out", required=True, type=Path, help="the PNG to write")
    rplot.set_defaults(func=cmd_runs_plot)

    demo = sub.add_parser("demo", help="the whole pipeline on the embedded synthetic data (about 9 min on 2 CPU cores)")
    demo.add_argument("--out", default="runs/demo", type=Path, help="where the demo's runs and report.md go")
    demo.add_argument("--set", action="append", metavar="KEY=VALUE", help="e.g. pretrain.epochs=10 for a quicker run")
    demo.add_argument("--overwrite", action="store_true", help="replace an earlier demo in --out")
    demo.add_argument("--threads", type=int, metavar="N", help="CPU threads (default: the free cores)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars or epoch lines")
    demo.set_defaults(func=cmd_demo)

    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:  # our own messages at INFO, other libraries' only when they warn
        logging.getLogger("masa").setLevel(logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    try:
        return args.func(args)
    except (OSError, ValueError, NonFiniteLoss, MissingExtra) as err:  # user errors: one line (-v: the traceback)
        if args.verbose:
            raise
        name = " ".join(a for a in (args.command, getattr(args, "data_command", None), getattr(args, "runs_command", None)) if a)
        print(f"masa {name}: {describe_error(err)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
