"""The `masa` command line: every command, its options and the function that runs it."""
from __future__ import annotations

import argparse
from pathlib import Path

from masa import config as cfgmod
from masa.cli.data import cmd_data_import, cmd_data_info, cmd_data_synth, cmd_extract, cmd_show
from masa.cli.inference import cmd_evaluate, cmd_export, cmd_fuse, cmd_predict
from masa.cli.options import POSE_FORMATS, add_config_options, parse_size
from masa.cli.training import cmd_demo, cmd_finetune, cmd_pretrain, cmd_probe, cmd_runs_plot, cmd_runs_summary
from masa.poses import format_help


def add_run_options(p):
    """What `masa pretrain` and `masa finetune` share: resuming, quiet, and the settings."""
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint, under its own config.json")
    p.add_argument("--quiet", action="store_true", help="no progress bar or epoch lines")
    add_config_options(p, default_preset="paper")


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
    imp.add_argument("--image-size", type=parse_size, help="frame size WxH when the files do not say")
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
    add_run_options(pre)
    pre.set_defaults(func=cmd_pretrain)

    fin = sub.add_parser("finetune", help="train a sign classifier from a pre-trained encoder (or from scratch)")
    fin.add_argument("--data", required=True, type=Path, help="a labelled store")
    fin.add_argument("--init", required=True, help="a pre-training run directory or checkpoint, or 'none' (from scratch)")
    fin.add_argument("--out", required=True, type=Path, help="run directory (the model goes to OUT/release)")
    add_run_options(fin)
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
    pr.add_argument("--image-size", type=parse_size, help="frame size WxH when the files do not say")
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
    sh.add_argument("--image-size", type=parse_size, help="frame size WxH when the file does not say")
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
