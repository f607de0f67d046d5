"""`masa demo`: the whole pipeline on the embedded synthetic signs, on a CPU.

1. write the synthetic corpus (600 samples, 20 classes, test signers held out);
2. pre-train the tiny model (`--preset small-data`) on every non-test sample, without labels;
3. fine-tune it with a few labels per class, and the same model from scratch;
4. evaluate both on the test signers and write report.md: metrics, training curves, both
   confusion matrices, and whether pre-training helped.

An earlier demo in the same folder is never replaced without `overwrite=True`.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from masa import config as cfgmod
from masa.data.ingest import import_samples
from masa.data.synth import synthesise
from masa.evaluate import report
from masa.evaluate.evaluate import evaluate
from masa.files import read_jsonl
from masa.train.finetune import finetune
from masa.train.pretrain import pretrain
from masa.train.progress import clock

# Few labels: 6 of the 18 training samples per class. Hand swapping lets the few labels
# cover left-handed signers too (one training and one test signer are left-handed).
PRESET = "small-data"  # the recipe that measured best on the real sets (docs/results.md)
DEMO = ["finetune.labels_per_class=6", "finetune.hand_swap=true"]
OUTPUTS = ("store", "pretrain", "finetune-pretrained", "finetune-scratch", "eval-pretrained", "eval-scratch",
           "report.md", "pretrain_losses.png", "finetune_accuracy.png")
# Share of the demo's time each step took (fresh clone, AMD EPYC, 1 thread, 2026-11-23: 8 min 34 s):
# the overall ETA.
STEPS = (("synthetic signs", 0.006), ("pre-training", 0.722), ("fine-tuning pretrained", 0.134),
         ("evaluating pretrained", 0.004), ("fine-tuning scratch", 0.132), ("evaluating scratch", 0.002))


def clear(out: Path, overwrite: bool):
    """Refuse to replace an earlier demo unless asked; with overwrite, remove all of it."""
    earlier = [name for name in OUTPUTS if (out / name).exists()]
    if earlier and not overwrite:
        raise FileExistsError(f"{out} holds an earlier demo ({', '.join(earlier[:3])}...): "
                              "pass --out NEW_FOLDER to keep it, or --overwrite to replace it")
    for name in earlier:
        path = out / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def run_demo(out: Path | str, overrides: list[str] | None = None, progress: bool = True, say=print,
             overwrite: bool = False) -> tuple[Path, str]:
    out = Path(out)
    cfg = cfgmod.resolve([PRESET], DEMO + list(overrides or []))
    clear(out, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    started, done = time.perf_counter(), 0.0

    def step(i: int, text: str):
        nonlocal done
        elapsed = time.perf_counter() - started
        eta = f", about {clock(elapsed / done * (1 - done))} left" if done else ""
        say(f"[{i + 1}/{len(STEPS)}] {text} (elapsed {clock(elapsed)}{eta})")
        done += STEPS[i][1]

    step(0, "synthetic signs")
    sources, labels = synthesise(cfg.synth)
    import_samples(sources, out / "store", cfg.normalise, labels, progress=False)
    step(1, f"pre-training the {cfg.model.size} model ({cfg.pretrain.epochs} epochs, no labels)")
    pretrain(cfg, [out / "store"], out / "pretrain", progress=progress)
    results = {}
    for k, (name, init) in enumerate((("pretrained", out / "pretrain"), ("scratch", None))):
        step(2 + 2 * k, f"fine-tuning {name} ({cfg.finetune.labels_per_class or 'all'} labels per class)")
        finetune(cfg, out / "store", init, out / f"finetune-{name}", progress=progress)
        step(3 + 2 * k, f"evaluating {name} on the test signers")
        results[name] = evaluate(out / f"finetune-{name}", out / "store", "test", out / f"eval-{name}", progress=False)
    say(f"done in {clock(time.perf_counter() - started)}")
    return write_report(out, cfg, results)


def machine() -> str:
    """'AMD EPYC ... , 2 threads': results are identical only on the same CPU kind and threads."""
    import torch

    from masa.device import cpu_name

    n = torch.get_num_threads()
    return f"{cpu_name()}, {n} thread{'s' if n != 1 else ''}, torch {torch.__version__}"


def _confusions(m: dict) -> str:
    top = m.get("top_confusions", [])[:3]
    if not top:
        return "no test sample was confused."
    return "most often confused: " + "; ".join(f"{t['true']} taken for {t['predicted']} ({t['count']}x)" for t in top) + "."


def write_report(out: Path, cfg: cfgmod.Config, results: dict) -> tuple[Path, str]:
    """-> (report.md, its verdict and metrics table as text)."""
    pre = read_jsonl(out / "pretrain" / "metrics.jsonl")[1:]  # step 1 compares with a random queue: L_s ~ 0
    report.plot_curves(out / "pretrain_losses.png", {
        "L_m / its first value": ([r["step"] for r in pre], [r["loss_m"] / max(pre[0]["loss_m"], 1e-9) for r in pre]),
        "L_s": ([r["step"] for r in pre], [r["loss_s"] for r in pre]),
    }, "pre-training losses", "loss", "optimiser step")
    series = {}
    for name in results:
        rows = read_jsonl(out / f"finetune-{name}" / "metrics.jsonl")
        series[f"{name} (val top-1)"] = ([r["epoch"] + 1 for r in rows], [r.get("val_top1", r["train_top1"]) for r in rows])
    report.plot_curves(out / "finetune_accuracy.png", series, "fine-tuning", "validation top-1", "epoch")
    a, b = results["pretrained"], results["scratch"]
    gain = 100 * (a["top1_per_instance"] - b["top1_per_instance"])
    one = 100 / a["samples"]
    if gain > one:
        verdict = f"Pre-training **helped**: +{gain:.1f} points of top-1 on the test signers."
    elif gain < -one:
        verdict = f"Pre-training **did not help** here: {gain:.1f} points of top-1 against training from scratch."
    else:
        verdict = f"Pre-training made **no clear difference** here ({gain:+.1f} points of top-1, within one test sample)."
    summary = [verdict, "", "| model | test samples | top-1 P-I | top-5 P-I | top-1 P-C | top-5 P-C |", "|---|---|---|---|---|---|"]
    for name, m in results.items():
        summary.append(f"| {name} | {m['samples']} | {m['top1_per_instance']:.1%} | {m['top5_per_instance']:.1%} | "
                       f"{m['top1_per_class']:.1%} | {m['top5_per_class']:.1%} |")
    lines = [
        "# masa demo report", "",
        f"Synthetic signs: {cfg.synth.num_classes} classes (time-reversed pairs), {cfg.synth.num_signers} signers, "
        f"{cfg.synth.repeats} repetitions; test = the last {cfg.synth.test_signers} signers. Model `{cfg.model.size}`; "
        f"pre-training {cfg.pretrain.epochs} epochs on all non-test samples without labels; fine-tuning "
        f"{cfg.finetune.epochs} epochs on {cfg.finetune.labels_per_class or 'all'} labelled samples per class.", "",
        *summary, "",
        f"Run on {machine()}. The same machine, threads and settings give the same figures; another thread count "
        "or CPU changes the order of floating-point sums, and with 6 labels per class the figures then move by "
        "several points (`--threads N` fixes the count).", "",
        "P-I: per instance (share of test samples); P-C: per class (the mean of the classes' accuracies). "
        "Differences are in percentage points.", "",
        "## Pre-training", "",
        "L_m is the motion reconstruction loss, shown divided by its first value so that it shares the axis "
        "with L_s, the alignment loss (InfoNCE against the queue). Both should fall.", "",
        "![pre-training losses](pretrain_losses.png)", "",
        "## Fine-tuning", "", "![fine-tuning](finetune_accuracy.png)", "",
        "## Confusion matrices on the test signers", "",
        "Rows are the true classes, columns the predictions, each row divided by its samples; classes confused "
        "with each other are placed side by side. A synthetic class and its time-reversed twin share every "
        "pose, so confusions between such pairs mean the model has not learnt the direction of the motion.", "",
    ]
    for name, m in results.items():
        lines += [f"**{name}**: {m['top1_per_instance']:.1%} top-1; {_confusions(m)}", "",
                  f"![confusion of {name}](eval-{name}/confusion.png)", ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path, "\n".join(summary)
