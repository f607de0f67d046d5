"""A researcher's day: resume under the run's own settings, settings adopted from a checkpoint,
epoch lines in logs, run summaries over seeds, and a demo that keeps earlier results."""
import json

import numpy as np
import pytest

from masa.cli import main
from tests.conftest import write_synth_store

SYNTH = ["synth.num_classes=4", "synth.num_signers=3", "synth.val_signers=1", "synth.test_signers=1",
         "synth.min_frames=20", "synth.max_frames=30"]
PRE = ["--preset", "tiny", "--quiet", "--set", "pretrain.batch_size=8", "--set", "pretrain.queue_size=16",
       "--set", "pretrain.epochs=2", "--set", "pretrain.log_every=1"]
FT = ["--preset", "tiny", "--set", "finetune.batch_size=8", "--set", "finetune.num_frames=16",
      "--set", "finetune.lr_milestones=2", "--set", "finetune.epochs=3"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_synth_store(tmp_path_factory.mktemp("day") / "store", SYNTH)


@pytest.fixture(scope="module")
def pre(store):
    run = store.parent / "pre"
    assert main(["pretrain", "--data", str(store), "--out", str(run), *PRE]) == 0
    return run


def rows(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_pretrain_resume_without_flags_equals_resume_with_them(store, tmp_path, capsys):
    args = ["pretrain", "--data", str(store), *PRE]
    assert main([*args, "--out", str(tmp_path / "a"), "--set", "pretrain.max_steps=2"]) == 0
    assert main([*args, "--out", str(tmp_path / "b"), "--set", "pretrain.max_steps=2"]) == 0
    # a: resumed with the original flags; b: with none, only the longer budget
    assert main([*args, "--out", str(tmp_path / "a"), "--resume", "--set", "pretrain.max_steps=5"]) == 0
    assert main(["pretrain", "--data", str(store), "--out", str(tmp_path / "b"), "--resume", "--quiet",
                 "--set", "pretrain.max_steps=5"]) == 0
    a, b = rows(tmp_path / "a"), rows(tmp_path / "b")
    assert [r["step"] for r in b] == [1, 2, 3, 4, 5]
    for x, y in zip(a, b):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-5)
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    assert config["model"]["size"] == "tiny" and config["pretrain"]["max_steps"] == 5  # not the paper's base
    history = [json.loads(line) for line in (tmp_path / "b" / "history.jsonl").read_text().splitlines()]
    assert history[-1]["resumed_with"] == {"pretrain.max_steps": {"was": 2, "now": 5}}


def test_finetune_resume_keeps_the_run_settings(store, tmp_path):
    run = tmp_path / "ft"
    assert main(["finetune", "--data", str(store), "--init", "none", "--out", str(run), "--quiet", *FT,
                 "--set", "finetune.epochs=1"]) == 0
    assert main(["finetune", "--data", str(store), "--init", "none", "--out", str(run), "--quiet", "--resume",
                 "--set", "finetune.epochs=2"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["finetune"]["batch_size"] == 8 and config["finetune"]["epochs"] == 2  # not the paper's 64
    assert [r["epoch"] for r in rows(run)] == [0, 1]


def test_a_step_budget_gives_fewer_epochs_and_resumes_without_a_change(store, tmp_path):
    from masa.data.store import PoseStore

    steps_per_epoch = -(-len(PoseStore(store).labelled("train")) // 8)
    budget = ["--set", "finetune.epochs=6", "--set", "finetune.lr_milestones=4", "--set", f"finetune.step_budget={3 * steps_per_epoch}"]
    run = tmp_path / "budget"
    args = ["finetune", "--data", str(store), "--init", "none", "--out", str(run), "--quiet", *FT, *budget]
    assert main(args) == 0
    assert [r["epoch"] for r in rows(run)] == [0, 1, 2]  # 3 of the 6 epochs fit
    assert [r["lr"] for r in rows(run)] == pytest.approx([0.01, 0.01, 0.001])  # the milestone moved to 2 of 3
    config = json.loads((run / "config.json").read_text())["finetune"]
    assert (config["epochs"], config["lr_milestones"]) == (3, [2])  # what ran, not what was asked
    assert main([*args, "--resume"]) == 0  # the same command again: nothing left to train, nothing changed
    assert [r["epoch"] for r in rows(run)] == [0, 1, 2]
    assert not (run / "history.jsonl").exists()  # no setting recorded as changed (epochs 6 -> 3 would be)


def test_a_conflicting_set_on_resume_is_refused(pre, tmp_path, capsys):
    before = (pre / "config.json").read_text()
    code = main(["pretrain", "--data", str(pre.parent / "store"), "--out", str(pre), "--resume", "--quiet",
                 "--set", "model.size=small"])
    err = capsys.readouterr().err
    assert code == 1 and "model.size=small (the run has tiny)" in err and "Traceback" not in err
    assert (pre / "config.json").read_text() == before


def test_init_adopts_the_encoder_settings_and_refuses_a_conflicting_set(store, pre, tmp_path, capsys, caplog):
    caplog.set_level("INFO", logger="masa")
    ft = ["finetune", "--data", str(store), "--init", str(pre), "--quiet", "--set", "finetune.batch_size=8",
          "--set", "finetune.epochs=1", "--set", "finetune.num_frames=16"]
    assert main([*ft, "--out", str(tmp_path / "adopted")]) == 0  # the default preset says size base
    assert "adopted from" in caplog.text and "model.size=tiny (not base)" in caplog.text
    assert json.loads((tmp_path / "adopted" / "config.json").read_text())["model"]["size"] == "tiny"
    code = main([*ft, "--out", str(tmp_path / "refused"), "--set", "model.size=small"])
    err = capsys.readouterr().err
    assert code == 1 and "model.size=small (it has tiny) conflicts with the pre-trained encoder" in err
    code = main([*ft, "--out", str(tmp_path / "refused2"), "--set", "normalise.body_frame=shoulders"])
    assert code == 1 and "normalise.body_frame" in capsys.readouterr().err


def test_init_keeps_the_fine_tuning_dropout_rates(store, pre, tmp_path, caplog):
    """Dropout rates regularise training and leave the weights alone: a fine-tuning run keeps its
    own (here a --set the pre-training did not have) instead of the checkpoint's."""
    caplog.set_level("INFO", logger="masa")
    assert json.loads((pre / "config.json").read_text())["model"]["dropout"] == 0.1
    assert main(["finetune", "--data", str(store), "--init", str(pre), "--out", str(tmp_path / "ft"), *FT,
                 "--set", "finetune.epochs=1", "--set", "model.dropout=0.4", "--set", "model.drop_path=0.2"]) == 0
    model = json.loads((tmp_path / "ft" / "config.json").read_text())["model"]
    assert model["dropout"] == 0.4 and model["drop_path"] == 0.2
    assert "fine-tuning with its own dropout rates" in caplog.text and "model.dropout=0.4" in caplog.text


def test_off_a_terminal_each_epoch_is_one_line(store, tmp_path, capsys):
    assert main(["finetune", "--data", str(store), "--init", "none", "--out", str(tmp_path / "ft"), *FT,
                 "--threads", "1"]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("finetune epoch")]
    assert [line.split()[2] for line in lines] == ["1/3", "2/3", "3/3"]
    for word in ("loss", "train top-1", "val top-1", "seq/s", "elapsed", "ETA"):
        assert word in lines[0]
    assert lines[-1].endswith("ETA 0:00:00")
    assert json.loads((tmp_path / "ft" / "config.json").read_text())["finetune"]["threads"] == 1
    assert all(r["threads"] == 1 and r["time"] > 0 for r in rows(tmp_path / "ft"))


def test_runs_summary_gives_the_mean_over_seeds(store, tmp_path, capsys):
    for seed in (0, 1, 2):
        assert main(["finetune", "--data", str(store), "--init", "none", "--out", str(tmp_path / f"ft-{seed}"),
                     "--quiet", *FT, "--set", f"finetune.seed={seed}"]) == 0
        assert main(["evaluate", "--checkpoint", str(tmp_path / f"ft-{seed}"), "--data", str(store),
                     "--out", str(tmp_path / f"eval-{seed}"), "--quiet"]) == 0
    other = tmp_path / "ft-longer"
    assert main(["finetune", "--data", str(store), "--init", "none", "--out", str(other), "--quiet", *FT,
                 "--set", "finetune.epochs=4"]) == 0
    capsys.readouterr()
    runs = [str(tmp_path / f"ft-{s}") for s in (0, 1, 2)] + [str(tmp_path / f"eval-{s}") for s in (0, 1, 2)]
    assert main(["runs", "summary", *runs, str(other), "--json", "--csv", str(tmp_path / "t.csv")]) == 0
    groups = {g["setup"]: g for g in json.loads(capsys.readouterr().out)}
    assert set(groups) == {"finetune.epochs=3", "finetune.epochs=4"}
    three = groups["finetune.epochs=3"]
    tests = [json.loads((tmp_path / f"eval-{s}" / "metrics.json").read_text())["top1_per_instance"] for s in (0, 1, 2)]
    vals = [max(r.get("val_top1", -1) for r in rows(tmp_path / f"ft-{s}")) for s in (0, 1, 2)]
    assert three["mean_std_n"]["test_top1"] == pytest.approx([np.mean(tests), np.std(tests), 3])
    assert three["mean_std_n"]["best_val_top1"] == pytest.approx([np.mean(vals), np.std(vals), 3])
    assert "test_top1" not in groups["finetune.epochs=4"]["mean_std_n"]  # it was not evaluated
    header = (tmp_path / "t.csv").read_text().splitlines()[0]
    assert header.startswith("setup,kind,runs,") and "test_top1_mean" in header
    assert main(["runs", "summary", *runs, str(other)]) == 0
    table = capsys.readouterr().out
    assert f"| finetune.epochs=3 | finetune | 3 | {100 * np.mean(vals):.1f} ± " in table
    assert main(["runs", "plot", *runs[:3], str(tmp_path / "pre-none"), "--out", str(tmp_path / "c.png")]) == 1
    assert "not a training run" in capsys.readouterr().err
    assert main(["runs", "plot", *runs[:3], "--out", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").stat().st_size > 10_000


def test_the_demo_refuses_to_replace_an_earlier_demo(tmp_path, capsys):
    out = tmp_path / "demo"
    (out / "eval-scratch").mkdir(parents=True)
    (out / "report.md").write_text("an earlier report")
    assert main(["demo", "--out", str(out), "--quiet"]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "report.md").read_text() == "an earlier report" and (out / "eval-scratch").is_dir()


# --- one-line messages and warnings ---------------------------------------------------------
def holistic(t=8, seed=0, body=True):
    """A MediaPipe Holistic array (T, 543, 3) in normalised image units: pose, face, left, right."""
    arr = np.random.default_rng(seed).uniform(0.3, 0.7, (t, 543, 3)).astype(np.float32)
    if not body:
        arr[:, :33] = np.nan
    return arr


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


@pytest.fixture(scope="module")
def fine(store):
    run = store.parent / "fine"
    assert main(["finetune", "--data", str(store), "--init", "none", "--out", str(run), "--quiet", *FT,
                 "--set", "finetune.epochs=1"]) == 0
    return run


@pytest.mark.parametrize("module, extra", [("onnxscript", "export"), ("pyarrow", "parquet")])
def test_a_missing_extra_is_one_line_naming_it(fine, tmp_path, capsys, monkeypatch, module, extra):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    if extra == "export":
        code = main(["export", "--checkpoint", str(fine), "--format", "onnx", "--out", str(tmp_path / "m.onnx")])
    else:
        (tmp_path / "src").mkdir()
        (tmp_path / "src" / "a.parquet").write_bytes(b"PAR1")
        code = main(["data", "import", str(tmp_path / "src"), "--format", "mediapipe-holistic", "--out",
                     str(tmp_path / "store"), "--quiet"])
    assert code == 1 and f"pip install 'masa[{extra}]'" in one_line(capsys)
    assert not (tmp_path / "store").exists()


def test_a_pretraining_run_given_to_predict_or_export_is_one_line(pre, tmp_path, capsys):
    np.save(tmp_path / "a.npy", holistic())
    assert main(["predict", "--checkpoint", str(pre), str(tmp_path / "a.npy"), "--format", "mediapipe-holistic"]) == 1
    assert "is a pre-training run" in one_line(capsys)
    assert main(["export", "--checkpoint", str(pre), "--format", "torchscript"]) == 1
    assert "fine-tune it first" in one_line(capsys)


def test_show_to_an_unknown_extension_and_cuda_without_a_gpu_are_one_line(store, tmp_path, capsys):
    assert main(["show", f"{store}:0", "--out", str(tmp_path / "sign.mp4")]) == 1
    assert "GIF animations only" in one_line(capsys)
    import torch

    if torch.cuda.is_available():
        return
    assert main(["finetune", "--data", str(store), "--init", "none", "--out", str(tmp_path / "ft"), *FT, "--quiet",
                 "--set", "finetune.device=cuda"]) == 1
    assert "no CUDA device" in one_line(capsys)


def test_predict_on_a_folder_of_unknown_format_says_so_once(fine, tmp_path, capsys):
    for i in range(5):
        np.save(tmp_path / f"{i}.npy", holistic(seed=i))
    assert main(["predict", "--checkpoint", str(fine), str(tmp_path)]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "give --format" in lines[0] and lines[0].count(str(tmp_path)) == 1


def test_an_input_without_body_joints_is_warned_about(fine, tmp_path, capsys):
    from masa import release

    assert release.load(fine)[1]["trained_parts"]["body"] > 0.9  # the synthetic signs all have a body
    np.save(tmp_path / "body.npy", holistic())
    np.save(tmp_path / "hands.npy", holistic(body=False))
    assert main(["predict", "--checkpoint", str(fine), str(tmp_path / "body.npy"), str(tmp_path / "hands.npy"),
                 "--format", "mediapipe-holistic", "--image-size", "640x480", "--json"]) == 0
    body, hands = json.loads(capsys.readouterr().out)
    assert "warning" not in body and "top" in hands
    assert "no body joints" in hands["warning"] and "expect lower accuracy" in hands["warning"]


def test_import_without_image_size_warns_and_info_counts_classes_with_samples(tmp_path, capsys):
    (tmp_path / "src" / "a").mkdir(parents=True)
    (tmp_path / "src" / "b").mkdir()
    np.save(tmp_path / "src" / "a" / "0.npy", holistic())
    np.save(tmp_path / "src" / "b" / "0.npy", holistic(seed=1))
    (tmp_path / "labels.csv").write_text("a/0.npy,hello\nb/0.npy,thanks\n")
    (tmp_path / "classes.txt").write_text("hello\nthanks\nbook\n")
    imp = ["data", "import", str(tmp_path / "src"), "--format", "mediapipe-holistic", "--quiet",
           "--labels", str(tmp_path / "labels.csv"), "--class-list", str(tmp_path / "classes.txt")]
    assert main([*imp, "--out", str(tmp_path / "s1")]) == 0
    assert "2 samples have normalised coordinates" in capsys.readouterr().out
    assert main([*imp, "--out", str(tmp_path / "s2"), "--image-size", "640x480"]) == 0
    assert "normalised coordinates" not in capsys.readouterr().out
    assert main(["data", "info", str(tmp_path / "s2")]) == 0
    assert "classes 2 with samples (of 3 named)" in capsys.readouterr().out
