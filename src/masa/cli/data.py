"""`masa data import | info | synth`, `masa extract` and `masa show`: poses in, stores and pictures out."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from masa import config as cfgmod
from masa.cli.options import command_config, describe_error
from masa.extract.video import VIDEO_SUFFIXES


def cmd_data_import(args) -> int:
    from masa.data.ingest import ImportFailed, import_samples, refuse_unsafe_out
    from masa.poses import ImportOptions, find_samples, found_nothing
    from masa.poses.labels import read_labels

    cfg = command_config(args)
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
    print_import_report(report, args.out)
    return 0


def print_import_report(report: dict, out, show: int = 20):
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

    cfg = command_config(args)
    sources, labels = synthesise(cfg.synth)
    meta = {"importer": {"format": "synth", "synth": cfgmod.to_dict(cfg.synth)}}
    report = import_samples(sources, args.out, cfg.normalise, labels, overwrite=args.overwrite, meta=meta,
                            progress=not args.quiet)
    print_import_report(report, args.out)
    return 0


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


def cmd_show(args) -> int:
    from masa.evaluate.show import load_frames, render_gif, strategy_masks

    if Path(args.target).suffix.lower() in VIDEO_SUFFIXES:
        from masa.extract.overlay import render_overlay

        out, n = render_overlay(args.target, args.out)
        print(f"wrote {out} ({n} frames with the extracted skeleton)")
        return 0
    cfg = command_config(args)
    try:
        frames, title = load_frames(args.target, args.format, args.image_size, cfg.normalise)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"masa show: {err}", file=sys.stderr)
        return 1
    masks = strategy_masks(frames, cfg.pretext) if args.masks else None
    print(f"wrote {render_gif(frames, args.out, title, masks)}")
    return 0
