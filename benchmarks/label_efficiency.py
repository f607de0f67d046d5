"""Label efficiency and data scale on the real tasks: what pre-training buys with few labels,
and with how much unlabelled data.

    python benchmarks/label_efficiency.py                  # 1, 2, 5 and all labels per class
    python benchmarks/label_efficiency.py --fractions 0 0.25 0.5 1 --labels 5   # the paper's Fig. 2
    python benchmarks/label_efficiency.py --quick          # CI smoke test
    python benchmarks/label_efficiency.py --from 0 t-b2000:masa-scratch blend05 --from 1 ...   # earlier runs

Runs benchmarks/accuracy.py for each point (masa from scratch vs pre-trained; a fraction of 0
means from scratch), prints a table (Markdown and CSV) and draws a PNG: top-1 against labels
per class, or against the share of the unlabelled corpus.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy  # noqa: E402
import real_tasks  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def plot(points: list[dict], x_label: str, out: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(p["task"] for p in points))
    fig, axes = plt.subplots(1, len(tasks), figsize=(3.6 * len(tasks), 3.2), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for model, style in (("masa-scratch", "o--"), ("masa-pretrained", "s-")):
            mine = sorted((p for p in points if p["task"] == task and p["model"] == model), key=lambda p: p["x"])
            if mine:
                ax.errorbar(range(len(mine)), [p["top1"] for p in mine], yerr=[p["std"] for p in mine], fmt=style,
                            capsize=3, label=model.replace("masa-", ""))
                ax.set_xticks(range(len(mine)), [p["label"] for p in mine])
        ax.set_title(task)
        ax.set_ylabel("test top-1 (%), mean ± std over seeds")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.supxlabel(x_label)  # once for all panels: a long label would overrun a narrow one
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def points_of(table, models, x, label):
    return [{"task": e["task"], "model": e["model"], "x": x, "label": label, "top1": e["top1_per_instance"][0],
             "std": e["top1_per_instance"][1], "seeds": e["seeds"]} for e in table if e["model"] in models]


def read_points(parser, args) -> dict[int, list[str]]:
    """--from N TAG ... and --all-from TAG ... -> {labels per class: the accuracy.py --merge specs}."""
    reads = {0: [args.all_from]} if args.all_from else {}
    for n, *tags in args.reads:
        if not n.isdigit() or not tags:
            parser.error(f"--from {n} {' '.join(tags)}: give the labels per class (0 = all), then the tags")
        reads.setdefault(int(n), []).extend(tags)
    if args.fractions and reads:
        parser.error("--from and --all-from read the label curve's points, not --fractions'")
    return reads


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tasks", nargs="+", default=["wlasl100", "granthgg", "divyashC", "DimasWibowo"],
                   choices=real_tasks.TASKS)
    p.add_argument("--labels", nargs="+", type=int, default=[1, 2, 5, 0], help="labels per class (0 = all)")
    p.add_argument("--fractions", nargs="+", type=float, help="instead: shares of the unlabelled corpus (0 = none)")
    p.add_argument("--seeds", nargs="+", default=["0", "1", "2"])
    p.add_argument("--all-from", metavar="TAG", help="the all-labels point from this earlier accuracy.py run "
                   "(short for --from 0 TAG)")
    p.add_argument("--from", dest="reads", nargs="+", action="append", default=[], metavar="N TAG",
                   help="the point of N labels per class from earlier accuracy.py runs, trained nothing; repeatable")
    p.add_argument("--reuse", action="store_true", help="a point whose runs exist (same tag) is read, not trained")
    p.add_argument("--tag", default="", help="prefix of the points' run folders (keeps the curves of two recipes apart)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "label_efficiency.png")
    p.add_argument("--quick", action="store_true")
    p.add_argument("extra", nargs="*", help="more arguments for accuracy.py, after --")
    args = p.parse_args(argv)
    reads = read_points(p, args)
    common = ["--tasks", *args.tasks, "--seeds", *args.seeds, *args.extra] + (["--quick"] if args.quick else [])
    work = Path(args.extra[args.extra.index("--work") + 1]) if "--work" in args.extra else ROOT / "runs" / "accuracy"

    def table(tag: str, models: list[str], more: list[str]):
        tag = f"{args.tag}-{tag}" if args.tag else tag
        if args.reuse and (work / "runs" / tag / "results.json").exists():
            return accuracy.main(common + ["--report-only", "--merge", tag])
        return accuracy.main(common + ["--models", *models, "--tag", tag, *more])

    points = []
    masa = ["masa-scratch", "masa-pretrained"]
    if args.fractions:  # the paper's Fig. 2: fine-tuned with few labels, pre-trained on a share of the corpus
        n = args.labels[0] if args.labels[0] else 5
        for f in args.fractions:
            if f in (0, 1):  # the label curve's runs at n labels: scratch, and the whole corpus
                model = "masa-scratch" if f == 0 else "masa-pretrained"
                rows = table(f"labels-{n}", masa, ["--set", f"finetune.labels_per_class={n}"])
            else:
                model = "masa-pretrained"
                rows = table(f"scale-{f:g}-labels-{n}", [model], ["--pretrain-fraction", str(f),
                                                                 "--set", f"finetune.labels_per_class={n}"])
            points += [dict(q, model="masa-pretrained") for q in points_of(rows, [model], f, f"{f:.0%}")]
        x_label, what = f"share of the unlabelled corpus ({n} labels per class)", "fraction"
    else:
        for n in args.labels:
            if n in reads:
                rows = accuracy.main(common + ["--report-only", "--merge", *reads[n]])
            else:
                rows = table(f"labels-{n}", masa, ["--set", f"finetune.labels_per_class={n}"])
            points += points_of(rows, masa, n or 10**6, str(n or "all"))
        x_label, what = "labels per class", "labels"
    points = [q for q in points if q["task"] in args.tasks]
    print(f"\n| task | model | {what} | test top-1 (%) |\n|---|---|---|---|")
    for q in points:
        print(f"| {q['task']} | {q['model']} | {q['label']} | {q['top1']:.1f} ± {q['std']:.1f} |")
    print(f"\ntask,model,{what},top1_mean,top1_std")
    for q in points:
        print(f"{q['task']},{q['model']},{q['label']},{q['top1']:.2f},{q['std']:.2f}")
    plot(points, x_label, args.out)
    return points


if __name__ == "__main__":
    main()
