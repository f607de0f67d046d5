"""The benchmark scripts run (tiny settings) and print the machine and their figures.
Their numbers are recorded in docs/benchmarks.md, never asserted here."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script, args, expect", [
    ("pretrain_step.py", ["--sizes", "tiny", "--lengths", "8", "--batch", "4", "--steps", "1", "--warmup", "0"], "GFLOP/step"),
    ("data_pipeline.py", ["--samples", "60", "--step-rate", "10"], "masking + targets"),
    ("classifier_latency.py", ["--sizes", "tiny", "--frames", "8", "--batch", "4", "--rounds", "1"], "onnxruntime"),
    ("import_throughput.py", ["--samples", "5", "--frames", "10"], "sequences/s"),
])
def test_benchmark_runs(script, args, expect):
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("machine:") and "torch" in done.stdout
    assert expect in done.stdout


SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_merged_rows_read_in_one_order(monkeypatch):
    """A table merged from several runs lists tasks and models in the benchmark's order, not in
    the order the runs were merged."""
    monkeypatch.syspath_prepend(str(BENCH))
    from accuracy import summarise

    def row(task, model):
        return {"task": task, "model": model, "seconds": 1.0, "threads": 1, "top1_per_instance": 0.5,
                "top5_per_instance": 0.5, "top1_per_class": 0.5, "top5_per_class": 0.5}

    rows = [row("granthgg", "gru"), row("wlasl100", "masa-pretrained"), row("granthgg", "masa-scratch"),
            row("wlasl100", "masa-scratch")]
    order = [(e["task"], e["model"]) for e in summarise(rows)]
    assert order == [("wlasl100", "masa-scratch"), ("wlasl100", "masa-pretrained"),
                     ("granthgg", "masa-scratch"), ("granthgg", "gru")]


def test_the_last_epoch_is_scored_beside_the_released_one(monkeypatch, tmp_path):
    """accuracy's last-epoch column scores checkpoints/last.pt, not the release: with no
    validation split the release is the last epoch and the two agree; a last.pt that always
    says class 0 scores that class's share of the test split."""
    import torch

    from masa.config import resolve
    from masa.data.store import PoseStore
    from masa.evaluate.evaluate import evaluate
    from masa.train import checkpoint
    from masa.train.finetune import finetune
    from tests.conftest import write_synth_store
    monkeypatch.syspath_prepend(str(BENCH))
    from accuracy import last_epoch_top1

    store = write_synth_store(tmp_path / "store", ["synth.num_classes=4", "synth.num_signers=3", "synth.val_signers=0",
                                                   "synth.test_signers=1", "synth.min_frames=16",
                                                   "synth.max_frames=20"])
    cfg = resolve(["tiny"], ["finetune.epochs=2", "finetune.batch_size=8", "finetune.val_split=", "finetune.num_workers=0"])
    finetune(cfg, store, "none", tmp_path / "ft", progress=False)
    released = evaluate(tmp_path / "ft", store, "test", tmp_path / "test", progress=False)["top1_per_instance"]
    assert last_epoch_top1(tmp_path / "ft", store) == pytest.approx(released)
    last = tmp_path / "ft" / "checkpoints" / "last.pt"
    state = checkpoint.load(last)
    state["model"]["fc.weight"].zero_()
    state["model"]["fc.bias"].copy_(torch.tensor([1.0, 0.0, 0.0, 0.0]))
    checkpoint.save(last, state)
    data = PoseStore(store)
    share = float((data.labels[data.labelled("test")] == 0).mean())
    assert last_epoch_top1(tmp_path / "ft", store) == pytest.approx(share) and share < 0.5


def test_a_tag_run_again_adds_to_its_rows(monkeypatch, tmp_path):
    """Running one --tag on other tasks keeps the rows of the first tasks; a run repeated
    replaces its own row."""
    monkeypatch.syspath_prepend(str(BENCH))
    from accuracy import with_earlier

    results = tmp_path / "results.json"
    first = [{"task": "divyashC", "model": "masa-scratch", "seed": s, "top1": 0.9} for s in (0, 1)]
    assert with_earlier(results, first) == first
    results.write_text(json.dumps({"rows": first}))
    again = [{"task": "divyashC", "model": "masa-scratch", "seed": 1, "top1": 0.8},
             {"task": "wlasl100", "model": "masa-scratch", "seed": 0, "top1": 0.5}]
    assert with_earlier(results, again) == [first[0], *again]


def test_several_pre_training_seeds_give_one_fine_tuning_each(monkeypatch, tmp_path):
    """--pretrain-seeds: each pre-trained model is fine-tuned from every pre-training run, in its
    own folder, and a tag run again replaces only the runs of the same pre-training seed."""
    import argparse
    monkeypatch.syspath_prepend(str(BENCH))
    from accuracy import make_jobs, with_earlier

    args = argparse.Namespace(tasks=["wlasl100"], models=["masa-scratch", "masa-pretrained"], seeds=[0, 1], set=[],
                              threads=1)
    jobs = make_jobs(args, {"wlasl100": tmp_path / "store"}, {"wlasl100": {42: tmp_path / "pre42", 1: tmp_path / "pre1"}},
                     tmp_path)
    pretrained = [j for j in jobs if j["model"] == "masa-pretrained"]
    assert [(j["pretrain_seed"], j["seed"], Path(j["init"]).name) for j in pretrained] == [
        (42, 0, "pre42"), (42, 1, "pre42"), (1, 0, "pre1"), (1, 1, "pre1")]
    assert len({j["out"] for j in jobs}) == len(jobs) == 6
    assert all(j["init"] == "none" and j["pretrain_seed"] is None for j in jobs if j["model"] == "masa-scratch")
    one = make_jobs(args, {"wlasl100": tmp_path / "store"}, {"wlasl100": {None: tmp_path / "pre"}}, tmp_path)
    assert sorted(Path(j["out"]).name for j in one)[:2] == ["wlasl100-masa-pretrained-0", "wlasl100-masa-pretrained-1"]

    results = tmp_path / "results.json"
    rows = [{"task": "wlasl100", "model": "masa-pretrained", "seed": 0, "pretrain_seed": s, "top1": 0.5} for s in (42, 1)]
    results.write_text(json.dumps({"rows": rows}))
    again = [{"task": "wlasl100", "model": "masa-pretrained", "seed": 0, "pretrain_seed": 1, "top1": 0.6}]
    assert with_earlier(results, again) == [rows[0], *again]


def test_in_domain_pre_training_is_one_run_per_task_on_its_own_clips(monkeypatch, tmp_path):
    """--pretrain-on task: each task's pre-trained model starts from a run over that task's own
    store, its train and val splits only (never the test split); the corpus mode pre-trains once
    for all tasks, and each pre-training seed once per store."""
    import argparse
    monkeypatch.syspath_prepend(str(BENCH))
    import accuracy
    import pretrain_runs

    calls = []

    def fake_pretrain_once(args, store, splits, presets, overrides):
        calls.append((store.name, splits, [o for o in overrides if o.startswith("pretrain.seed")]))
        return tmp_path / f"pre-{store.name}-{len(calls)}", True

    monkeypatch.setattr(pretrain_runs, "pretrain_once", fake_pretrain_once)
    monkeypatch.setattr(pretrain_runs.real_tasks, "corpus_store", lambda *a, **k: tmp_path / "corpus")
    stores = {"wlasl100": tmp_path / "wl", "granthgg": tmp_path / "gr"}
    args = argparse.Namespace(tasks=["wlasl100", "granthgg"], models=["masa-pretrained"], seeds=[0], set=[],
                              pretrain_set=[], threads=1, pretrain_seeds=[42, 1], pretrain_on="task",
                              data=tmp_path, work=tmp_path, pretrain_fraction=1.0, quick=False)
    runs, trained = pretrain_runs.pretrain_all(args, None, stores)
    assert calls == [("wl", ["train", "val"], ["pretrain.seed=42"]), ("wl", ["train", "val"], ["pretrain.seed=1"]),
                     ("gr", ["train", "val"], ["pretrain.seed=42"]), ("gr", ["train", "val"], ["pretrain.seed=1"])]
    assert trained == 4 and runs["granthgg"][1].name == "pre-gr-4"
    jobs = accuracy.make_jobs(args, stores, runs, tmp_path)
    assert {(j["task"], j["pretrain_seed"], Path(j["init"]).name) for j in jobs} == {
        ("wlasl100", 42, "pre-wl-1"), ("wlasl100", 1, "pre-wl-2"), ("granthgg", 42, "pre-gr-3"), ("granthgg", 1, "pre-gr-4")}

    calls.clear()
    args.pretrain_on, args.pretrain_seeds = "corpus", None
    runs, trained = pretrain_runs.pretrain_all(args, None, stores)
    assert calls == [("corpus", None, [])] and trained == 1
    assert runs == {"wlasl100": {None: tmp_path / "pre-corpus-1"}, "granthgg": {None: tmp_path / "pre-corpus-1"}}

    for name in ("wlasl100-hands-devtushar", accuracy.real_tasks.WEBCAM):  # what main checks before anything
        (tmp_path / "data" / name).mkdir(parents=True)
    with pytest.raises(SystemExit, match="--pretrain-fraction is a share of the corpus"):
        accuracy.main(["--data", str(tmp_path / "data"), "--pretrain-on", "task", "--pretrain-fraction", "0.5"])


def test_a_corpus_pre_training_is_reused_only_for_the_same_resolved_settings(monkeypatch):
    from masa.config import resolve

    monkeypatch.syspath_prepend(str(BENCH))
    from pretrain_runs import pretrain_key

    key = pretrain_key(resolve(["small-data"]))
    assert pretrain_key(resolve(["small-data"], ["finetune.epochs=3", "augment.rotate=10"])) == key
    assert pretrain_key(resolve(["small-data"], ["model.pool=parts"])) != key  # what a changed preset does
    assert pretrain_key(resolve(["small-data"], ["pretrain.epochs=4"])) != key


def test_an_earlier_pre_training_is_found_after_a_setting_is_added(monkeypatch, tmp_path):
    """A run made before a setting existed has a config.json without it: read back at the
    setting's default it is the same pre-training, so the benchmark reuses it instead of
    pre-training again; a run of other settings, or a folder without a readable config, is not."""
    from masa.config import resolve, to_dict

    monkeypatch.syspath_prepend(str(BENCH))
    from pretrain_runs import pretrain_dir, pretrain_key

    cfg = resolve(["small-data"])
    assert pretrain_dir(tmp_path, "corpus", cfg) == tmp_path / f"pretrain-corpus-{pretrain_key(cfg)}"

    def earlier_run(name, settings):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(settings))

    other = to_dict(resolve(["small-data"], ["pretrain.queue_size=4096"]))
    del other["pretext"]["sa_crop"]
    earlier_run("pretrain-corpus-aaaaaaaa", other)
    (tmp_path / "pretrain-corpus-bbbbbbbb").mkdir()  # no config.json
    earlier_run("pretrain-corpus-cccccccc", {"pretrain": {"a_setting_masa_never_had": 1}})
    assert pretrain_dir(tmp_path, "corpus", cfg).name == f"pretrain-corpus-{pretrain_key(cfg)}"

    same = to_dict(resolve(["small-data"], ["pretrain.threads=2"]))  # the threads it ran with do not count
    del same["pretext"]["sa_crop"]  # made before sa_crop existed
    earlier_run("pretrain-corpus-dddddddd", same)
    assert pretrain_dir(tmp_path, "corpus", cfg).name == "pretrain-corpus-dddddddd"
    assert pretrain_dir(tmp_path, "corpus", resolve(["small-data"], ["pretext.sa_crop=0.5"])).name != \
        "pretrain-corpus-dddddddd"
    assert pretrain_dir(tmp_path, "other", cfg) == tmp_path / f"pretrain-other-{pretrain_key(cfg)}"  # another corpus

    # pre-training's own dropout, set either way, is the same pre-training
    split = resolve(["small-data"], ["model.dropout=0.3", "pretrain.dropout=0.2"])
    earlier_run("pretrain-corpus-eeeeeeee", to_dict(resolve(["small-data"], ["model.dropout=0.2", "pretrain.dropout=none"])))
    assert pretrain_dir(tmp_path, "corpus", split).name == "pretrain-corpus-eeeeeeee"
    other_dropout = resolve(["small-data"], ["model.dropout=0.2", "pretrain.dropout=0.4"])
    assert pretrain_dir(tmp_path, "corpus", other_dropout).name == f"pretrain-corpus-{pretrain_key(other_dropout)}"


def test_a_stopped_pre_training_is_resumed_not_reused(monkeypatch, tmp_path):
    """A pre-training stopped part-way leaves a last.pt (written at a stop): only the checkpoint
    of its last epoch says that it is finished and can be reused."""
    from masa.config import resolve

    monkeypatch.syspath_prepend(str(BENCH))
    from pretrain_runs import pretrain_finished

    cfg = resolve(["small-data"], ["pretrain.epochs=8"])
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "last.pt").write_bytes(b"")
    (tmp_path / "checkpoints" / "epoch_0004.pt").write_bytes(b"")
    assert not pretrain_finished(tmp_path, cfg)
    (tmp_path / "checkpoints" / "epoch_0008.pt").write_bytes(b"")
    assert pretrain_finished(tmp_path, cfg)
    assert not pretrain_finished(tmp_path, resolve(["small-data"], ["pretrain.epochs=16"]))


def test_accuracy_benchmark_quick_mode(tmp_path):
    """The real-data table end to end at smoke-test budgets: import, pre-train, fine-tune every
    model, test, and the table with mean and std."""
    if not (SHARED / "webcam-mediapipe").exists() or not (SHARED / "wlasl100-hands-devtushar").exists():
        pytest.skip(f"real data not found at {SHARED} (the benchmark reads ../shared/data beside the checkout)")
    done = subprocess.run([sys.executable, str(BENCH / "accuracy.py"), "--quick", "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("machine:")
    for model in ("masa-scratch", "masa-pretrained", "gru", "tcn"):  # the doc's table
        assert f"| asl-signers | {model} |" in done.stdout
    results = json.loads((tmp_path / "runs" / "default" / "results.json").read_text())
    rows = results["rows"]
    assert {r["best_epoch"] for r in rows} <= {0, 1}  # the released epoch, of the quick mode's two
    assert all(0 <= r["last_top1"] <= 1 for r in rows) and "top-1 P-I, last epoch" in done.stdout
    # the wall time counts the pre-training it ran, not the fine-tuning alone
    minutes = results["minutes"]
    assert minutes["pretrain_runs_trained"] == 1 and minutes["before"] > 0
    assert minutes["total"] >= minutes["before"] + minutes["finetuning"] - 1e-6
    assert "1 pre-training run(s) trained here" in done.stdout
    # every run trained on the threads the table reports (finetune's own choice, the free cores,
    # gave two jobs started together 2 threads each on 2 cores)
    def threads(metrics):
        return {json.loads(line)["threads"] for line in metrics.read_text().splitlines()}
    for metrics in (tmp_path / "runs" / "default").glob("*/metrics.jsonl"):
        assert threads(metrics) == {1}, metrics
    assert [threads(m) for m in tmp_path.glob("pretrain-*/metrics.jsonl")] == [{2}]  # pre-training alone: both jobs' threads
    # the table of earlier runs, some of their models only (what the doc's table is made of)
    only = subprocess.run([sys.executable, str(BENCH / "accuracy.py"), "--report-only", "--work", str(tmp_path),
                           "--merge", "default:gru,tcn"], capture_output=True, text=True, timeout=300)
    assert only.returncode == 0, only.stderr[-3000:]
    assert "| asl-signers | gru |" in only.stdout and "| asl-signers | tcn |" in only.stdout
    assert "masa-scratch" not in only.stdout
    # in-domain: pre-trained on the task's own store, its test split left out
    own = subprocess.run([sys.executable, str(BENCH / "accuracy.py"), "--quick", "--work", str(tmp_path), "--tag",
                          "own", "--models", "masa-pretrained", "--pretrain-on", "task"],
                         capture_output=True, text=True, timeout=600)
    assert own.returncode == 0, own.stderr[-3000:]
    assert "| asl-signers | masa-pretrained |" in own.stdout
    (run,) = [r for r in tmp_path.glob("pretrain-*") if not r.name.startswith("pretrain-corpus")]
    started = json.loads((run / "run.json").read_text())
    assert started["splits"] == ["train", "val"] and Path(started["data"][0]).name.startswith("asl-signers")


def test_label_efficiency_quick_mode_draws_the_curve(tmp_path):
    """The label-efficiency curve end to end at smoke-test budgets: a table, CSV rows for
    pre-trained and scratch at each point, and the PNG."""
    if not (SHARED / "webcam-mediapipe").exists() or not (SHARED / "wlasl100-hands-devtushar").exists():
        pytest.skip(f"real data not found at {SHARED} (the benchmark reads ../shared/data beside the checkout)")
    png = tmp_path / "curve.png"
    done = subprocess.run([sys.executable, str(BENCH / "label_efficiency.py"), "--quick", "--tasks", "wlasl100",
                           "--labels", "1", "0", "--seeds", "0", "--out", str(png), "--tag", "q", "--", "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    for row in ("wlasl100,masa-scratch,1,", "wlasl100,masa-pretrained,1,", "wlasl100,masa-pretrained,all,"):
        assert row in done.stdout
    assert png.stat().st_size > 1000
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["q-labels-0", "q-labels-1"]

    # a curve drawn from earlier runs, a point made of two runs' models (as the doc's plot is): nothing trains
    def csv_row(stdout, prefix):
        return next(line for line in stdout.splitlines() if line.startswith(prefix))
    read = subprocess.run([sys.executable, str(BENCH / "label_efficiency.py"), "--quick", "--tasks", "wlasl100",
                           "--labels", "1", "0", "--seeds", "0", "--out", str(tmp_path / "read.png"), "--tag", "new",
                           "--from", "1", "q-labels-1:masa-scratch", "q-labels-0:masa-pretrained",
                           "--from", "0", "q-labels-0", "--", "--work", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert read.returncode == 0, read.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["q-labels-0", "q-labels-1"]
    assert csv_row(read.stdout, "wlasl100,masa-scratch,1,") == csv_row(done.stdout, "wlasl100,masa-scratch,1,")
    # the 1-label point's pre-trained figure is the all-labels run's, as asked
    assert (csv_row(read.stdout, "wlasl100,masa-pretrained,1,").split(",")[3:]
            == csv_row(done.stdout, "wlasl100,masa-pretrained,all,").split(",")[3:])
    bad = subprocess.run([sys.executable, str(BENCH / "label_efficiency.py"), "--from", "all", "q-labels-0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--from all q-labels-0" in bad.stderr
