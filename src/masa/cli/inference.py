"""`masa evaluate | predict | export | fuse`: a trained model used."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from masa.cli.options import use_threads
from masa.extract.video import camera_or_path
from masa.files import atomic_open


def parse_groups(items):
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


def cmd_evaluate(args) -> int:
    from masa.evaluate.evaluate import evaluate, format_metrics

    use_threads(args)
    m = evaluate(args.checkpoint, args.data, args.split, args.out, clips=args.clips, groups=parse_groups(args.groups),
                 progress=not args.quiet)
    print(format_metrics(m))
    return 0


def cmd_predict(args) -> int:
    from masa.poses import ImportOptions
    from masa.predict import format_predictions, predict_files

    use_threads(args)
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
