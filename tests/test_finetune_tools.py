"""Fine-tuning, evaluation, prediction, export, release files, rendering and the demo."""
import json
import pickle

import numpy as np
import pytest
import torch

from masa import release
from masa.cli import main
from masa.config import resolve
from masa.data.store import PoseStore
from masa.train import checkpoint
from masa.train.finetune import finetune, training_indices
from masa.train.starting_point import build_classifier_for as build_classifier
from masa.train.pretrain import pretrain
from tests.conftest import write_synth_store

SYNTH = ["synth.num_classes=4", "synth.num_signers=3", "synth.val_signers=1", "synth.test_signers=1",
         "synth.min_frames=20", "synth.max_frames=30"]
QUICK = ["pretrain.batch_size=8", "pretrain.queue_size=16", "pretrain.epochs=2", "finetune.epochs=3",
         "finetune.batch_size=8", "finetune.num_frames=16", "finetune.lr_milestones=2"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("ft")
    cfg = resolve(["tiny"], SYNTH + QUICK)
    write_synth_store(root / "store", SYNTH)
    pretrain(cfg, [root / "store"], root / "pre", progress=False)
    finetune(resolve(["tiny"], SYNTH + QUICK), root / "store", str(root / "pre"), root / "ft", progress=False)
    return root


def test_pretrained_encoder_is_loaded(runs):
    cfg = resolve(["tiny"], QUICK + ["model.positional=none"])  # the checkpoint's own model settings win
    model, cfg = build_classifier(cfg, 4, str(runs / "pre"))
    assert cfg.model.positional == "sinusoidal"
    state = checkpoint.load(runs / "pre" / "checkpoints" / "last.pt")["model"]
    for name, value in model.encoder.state_dict().items():
        torch.testing.assert_close(value, state[f"encoder_q.{name}"])
    scratch, _ = build_classifier(resolve(["tiny"]), 4, "none")
    w = "embedding.hand.layers.0.weight"
    assert not torch.equal(scratch.encoder.state_dict()[w], state[f"encoder_q.{w}"])


def test_the_momentum_encoder_can_be_the_start(runs):
    """finetune.init_encoder=momentum starts from encoder_k, the EMA copy, which after
    pre-training differs from the online encoder; from scratch the setting is refused."""
    state = checkpoint.load(runs / "pre" / "checkpoints" / "last.pt")["model"]
    model, _ = build_classifier(resolve(["tiny"], QUICK + ["finetune.init_encoder=momentum"]), 4, str(runs / "pre"))
    loaded = model.encoder.state_dict()
    for name, value in loaded.items():
        torch.testing.assert_close(value, state[f"encoder_k.{name}"])
    assert any(not torch.equal(v, state[f"encoder_q.{k}"]) for k, v in loaded.items())
    with pytest.raises(ValueError, match="init_encoder=momentum picks a pre-trained encoder"):
        build_classifier(resolve(["tiny"], ["finetune.init_encoder=momentum"]), 4, "none")


def test_a_blended_start_lies_between_scratch_and_the_pre_training(runs):
    """finetune.init_blend=b starts every encoder tensor at b x pre-trained + (1 - b) x the
    weights a run from scratch with the same seed starts from: 0 is that run's start exactly
    (classifier included), 1 the pre-trained encoder. reinit_blocks=1 gives the last block its
    fresh weights and leaves the rest pre-trained. From scratch, an explicit setting is refused;
    a preset's is not applied, and the run's config says so."""
    state = checkpoint.load(runs / "pre" / "checkpoints" / "last.pt")["model"]
    pre = {k[len("encoder_q."):]: v for k, v in state.items() if k.startswith("encoder_q.")}

    def start(*sets, init=str(runs / "pre"), explicit=frozenset()):
        torch.manual_seed(3)
        return build_classifier(resolve(["tiny"], QUICK + list(sets)), 4, init, explicit)[0]

    scratch = start(init="none").state_dict()
    for name, value in start("finetune.init_blend=0").state_dict().items():
        torch.testing.assert_close(value, scratch[name])
    half = start("finetune.init_blend=0.5").encoder.state_dict()
    w = "transformer.blocks.0.qkv.weight"
    assert not torch.equal(pre[w], scratch[f"encoder.{w}"])
    torch.testing.assert_close(half[w], (pre[w] + scratch[f"encoder.{w}"]) / 2)
    e = next(k for k, v in pre.items() if k.startswith("embedding.") and v.dim() >= 2)
    torch.testing.assert_close(half[e], (pre[e] + scratch[f"encoder.{e}"]) / 2)
    last = len(start().encoder.transformer.blocks) - 1
    for name, value in start("finetune.reinit_blocks=1").encoder.state_dict().items():
        expected = scratch[f"encoder.{name}"] if name.startswith(f"transformer.blocks.{last}.") else pre[name]
        torch.testing.assert_close(value, expected)
    with pytest.raises(ValueError, match="init_blend act.* on pre-trained weights"):
        start("finetune.init_blend=0.5", init="none", explicit={"finetune.init_blend"})
    for name, value in start("finetune.init_blend=0.5", init="none").state_dict().items():
        torch.testing.assert_close(value, scratch[name])
    _, ran = build_classifier(resolve(["tiny"], QUICK + ["finetune.init_blend=0.5"]), 4, "none")
    assert ran.finetune.init_blend == 1.0  # config.json records what ran


def test_probe_reads_the_encoder_it_is_told(runs, monkeypatch):
    """`masa probe --set finetune.init_encoder=momentum` reads out the momentum encoder, the
    default the online one (each probe reads the pre-trained encoder, then a random one)."""
    from masa.evaluate import probe as probing

    state = checkpoint.load(runs / "pre" / "checkpoints" / "last.pt")["model"]
    seen, real = [], probing.read_outs

    def recording(model, *args):
        seen.append(model.encoder.state_dict())
        return real(model, *args)

    monkeypatch.setattr(probing, "read_outs", recording)
    for which in ("online", "momentum"):
        probing.probe(runs / "pre", runs / "store", overrides=[f"finetune.init_encoder={which}"])
    for name, value in seen[2].items():
        torch.testing.assert_close(value, state[f"encoder_k.{name}"])
        torch.testing.assert_close(seen[0][name], state[f"encoder_q.{name}"])
    assert any(not torch.equal(seen[0][k], v) for k, v in seen[2].items())  # two encoders, so the test can tell


def test_fine_tuning_keeps_the_best_validation_epoch(runs):
    rows = [json.loads(line) for line in (runs / "ft" / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1, 2] and all("val_top1" in r and "val_loss" in r for r in rows)
    assert [r["lr"] for r in rows] == pytest.approx([0.01, 0.01, 0.001])
    best = max(range(3), key=lambda e: (rows[e]["val_top1"], -rows[e]["val_loss"]))
    state = checkpoint.load(runs / "ft" / "checkpoints" / "last.pt")
    assert state["best_epoch"] == best and state["best"] == rows[best]["val_top1"]
    assert state["best_loss"] == rows[best]["val_loss"]
    model, meta = release.load(runs / "ft")
    assert meta["classes"] == ["sign00a", "sign00b", "sign01a", "sign01b"] and meta["num_frames"] == 16


@pytest.mark.parametrize("freeze, epochs", [(3, 3), (1, 2)])
def test_frozen_epochs_train_the_classifier_only(runs, tmp_path, freeze, epochs):
    """finetune.freeze_epochs: a linear probe first. Frozen throughout, the encoder (weights and
    batch-norm statistics) is the pre-trained one at the end; frozen for one epoch of two, it
    has learned too. The classifier learns either way."""
    cfg = resolve(["tiny"], SYNTH + QUICK + [f"finetune.freeze_epochs={freeze}", f"finetune.epochs={epochs}"])
    finetune(cfg, runs / "store", str(runs / "pre"), tmp_path / "ft", progress=False)
    pre = checkpoint.load(runs / "pre" / "checkpoints" / "last.pt")["model"]
    tuned = checkpoint.load(tmp_path / "ft" / "checkpoints" / "last.pt")["model"]
    encoder = {k: v for k, v in tuned.items() if k.startswith("encoder.")}
    same = [torch.equal(v, pre[k.replace("encoder.", "encoder_q.", 1)]) for k, v in encoder.items()]
    assert all(same) if freeze == epochs else not all(same)
    if freeze == epochs:  # the classifier alone still learns
        rows = [json.loads(line) for line in (tmp_path / "ft" / "metrics.jsonl").read_text().splitlines()]
        assert rows[-1]["loss"] < rows[0]["loss"]
    torch.manual_seed(cfg.finetune.seed)  # the classifier as fine-tuning built it
    start, _ = build_classifier(cfg, 4, str(runs / "pre"))
    assert not torch.allclose(tuned["fc.weight"], start.fc.weight)


def test_few_labels_per_class(runs):
    store = PoseStore(runs / "store")
    cfg = resolve(overrides=["finetune.labels_per_class=1"]).finetune
    idx = training_indices(store, cfg)
    assert len(idx) == 4 and sorted(store.labels[idx].tolist()) == [0, 1, 2, 3]
    assert all(store.splits[i] == "train" for i in idx)


def test_from_scratch_and_cli(runs, capsys):
    out = runs / "scratch"
    args = ["finetune", "--data", str(runs / "store"), "--init", "none", "--out", str(out), "--preset", "tiny", "--quiet"]
    assert main(args + [s for o in QUICK for s in ("--set", o)]) == 0
    assert "best validation top-1" in capsys.readouterr().out
    assert (out / "release" / "model.safetensors").exists()


def test_evaluate_writes_metrics_scores_and_confusion(runs, capsys):
    out = runs / "eval"
    assert main(["evaluate", "--checkpoint", str(runs / "ft"), "--data", str(runs / "store"), "--out", str(out),
                 "--quiet", "--clips", "2", "--groups", "first=0-1", "second=2-3"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    z = np.load(out / "scores.npz")
    assert m["samples"] == 12 == len(z["ids"]) and m["clips"] == 2
    assert m["top1_per_instance"] == pytest.approx(float((z["scores"].argmax(1) == z["labels"]).mean()))
    assert set(m["groups"]) == {"first", "second"} and m["groups"]["first"]["samples"] == 6
    for name in ("confusion.csv", "confusion.png", "per_class.csv"):
        assert (out / name).stat().st_size > 0
    assert "per instance" in capsys.readouterr().out


def test_predict_real_pose_files(runs, pose_samples, capsys):
    assert main(["predict", "--checkpoint", str(runs / "ft"), str(pose_samples / "src"), "--top-k", "3", "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert len(results) == 9
    for r in results:
        assert "error" not in r, r
        probs = [t["probability"] for t in r["top"]]
        assert len(probs) == 3 and probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6


def test_predict_reports_a_bad_file_and_goes_on(runs, tmp_path, capsys):
    (tmp_path / "broken.pose").write_bytes(b"not a pose file")
    code = main(["predict", "--checkpoint", str(runs / "ft"), str(tmp_path / "broken.pose")])
    assert code == 1 and "error" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_export_matches_eager(runs, tmp_path, fmt):
    from masa.export import FramesToLogits, example_input, export

    path = export(runs / "ft", fmt, tmp_path / f"model.{fmt}")
    model, meta = release.load(runs / "ft")
    frames = example_input(meta["num_frames"], batch=3, seed=5)
    with torch.no_grad():
        eager = FramesToLogits(model).eval()(frames).numpy()
    if fmt == "torchscript":
        got = torch.jit.load(str(path))(frames).detach().numpy()
    else:
        import onnxruntime

        got = onnxruntime.InferenceSession(str(path)).run(None, {"frames": frames.numpy()})[0]
    np.testing.assert_allclose(got, eager, atol=1e-4, rtol=1e-4)
    assert json.loads(path.with_suffix(".json").read_text())["num_frames"] == meta["num_frames"]


def test_release_loads_without_unpickling(runs, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("release loading must not unpickle")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    model, meta = release.load(runs / "ft" / "release" / "model.safetensors")
    assert sum(p.numel() for p in model.parameters()) > 0


def test_show_renders_store_samples_and_pose_files(runs, pose_samples, tmp_path, capsys):
    store = PoseStore(runs / "store")
    out = tmp_path / "a.gif"
    assert main(["show", f"{runs / 'store'}:{store.ids[0]}", "--out", str(out), "--masks"]) == 0
    from PIL import Image

    gif = Image.open(out)
    assert gif.n_frames == store.lengths[0]
    assert main(["show", str(pose_samples / "src/python/tests/data/mediapipe.pose"), "--out", str(tmp_path / "b.gif")]) == 0
    assert (tmp_path / "b.gif").stat().st_size > 1000


def test_demo_in_a_reduced_setting(tmp_path):
    from masa.demo import run_demo

    # fixed threads: the default follows the load, and another thread count gives other figures
    overrides = SYNTH + QUICK + ["finetune.labels_per_class=1", "pretrain.threads=1", "finetune.threads=1"]
    report, summary = run_demo(tmp_path / "demo", overrides, progress=False, say=lambda *_: None)
    text = report.read_text()
    assert summary in text and summary.startswith("Pre-training")
    assert "| pretrained |" in text and "| scratch |" in text
    m = {name: json.loads((tmp_path / "demo" / f"eval-{name}" / "metrics.json").read_text())
         for name in ("pretrained", "scratch")}
    gain = 100 * (m["pretrained"]["top1_per_instance"] - m["scratch"]["top1_per_instance"])
    one = 100 / m["pretrained"]["samples"]
    verdict = "**helped**" if gain > one else "**did not help**" if gain < -one else "**no clear difference**"
    assert verdict in summary
    assert f"{gain:+.1f} points" in summary
    for png in ("pretrain_losses.png", "finetune_accuracy.png", "eval-pretrained/confusion.png",
                "eval-scratch/confusion.png"):
        assert (tmp_path / "demo" / png).stat().st_size > 1000
        assert f"]({png})" in text
    again, _ = run_demo(tmp_path / "demo", overrides, progress=False, say=lambda *_: None, overwrite=True)
    assert again.read_text() == text  # the same seeds give the same report


def test_runs_are_never_overwritten_and_resume_needs_a_run(runs, tmp_path):
    with pytest.raises(FileExistsError, match="--resume"):
        finetune(resolve(["tiny"], SYNTH + QUICK), runs / "store", "none", runs / "ft", progress=False)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        finetune(resolve(["tiny"], SYNTH + QUICK), runs / "store", "none", tmp_path / "new", resume=True, progress=False)


@pytest.mark.parametrize("mix", ["none", "cutmix"])
def test_resumed_fine_tuning_matches_an_uninterrupted_run_with_fp16(runs, tmp_path, mix):
    """Stop after epoch 1 and resume: the same metrics as one run, loss scale included (and
    with finetune.mix, the same batches mixed alike)."""
    fp16 = SYNTH + QUICK + ["finetune.amp=fp16", "finetune.num_workers=0", "finetune.epochs=2", f"finetune.mix={mix}"]
    finetune(resolve(["tiny"], fp16), runs / "store", "none", tmp_path / "whole", progress=False)
    finetune(resolve(["tiny"], fp16 + ["finetune.epochs=1"]), runs / "store", "none", tmp_path / "part", progress=False)
    finetune(resolve(["tiny"], fp16), runs / "store", "none", tmp_path / "part", resume=True, progress=False)
    rows = [[{k: v for k, v in json.loads(line).items() if k != "time"} for line in open(tmp_path / run / "metrics.jsonl")]
            for run in ("whole", "part")]
    assert rows[0] == rows[1]
    scalers = [checkpoint.load(tmp_path / run / "checkpoints" / "last.pt")["scaler"] for run in ("whole", "part")]
    assert scalers[0] == scalers[1] and scalers[0]["_growth_tracker"] > 0  # the scale's history went on
    kept = [{k: checkpoint.load(tmp_path / run / "checkpoints" / "last.pt")[k] for k in ("best", "best_loss", "best_epoch")}
            for run in ("whole", "part")]
    assert kept[0] == kept[1]  # and the same epoch released


def test_a_validation_tie_goes_to_the_lower_loss():
    """A saturated validation split ties many epochs at 100 %: the release is the tied epoch with
    the lowest validation loss, not the first (often the least trained). Runs logged before the
    loss was keep their first of equals."""
    from masa.train.finetune import kept_rank, validation_figures

    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [np.nan, np.nan]])
    top1, loss = validation_figures(probs, np.array([0, 1, 1, 0]))
    assert top1 == 0.5  # the NaN row (non-finite frames) is wrong
    assert loss == pytest.approx(-(np.log(0.9) + np.log(0.8) + np.log(0.4) + np.log(1e-12)) / 4)

    rows = [{"epoch": 0, "val_top1": 0.5, "val_loss": 0.1}, {"epoch": 1, "val_top1": 1.0, "val_loss": 0.5},
            {"epoch": 2, "val_top1": 1.0, "val_loss": 0.2}, {"epoch": 3, "val_top1": 1.0, "val_loss": 0.3}]
    assert max(rows, key=kept_rank)["epoch"] == 2
    assert max([{k: v for k, v in r.items() if k != "val_loss"} for r in rows], key=kept_rank)["epoch"] == 1


@pytest.mark.parametrize("scaled", [False, True])
def test_gradient_clipping_bounds_the_step(scaled):
    """finetune.grad_clip: one plain SGD step moves the weights by lr x max_norm at most, also
    with an fp16 gradient scaler (the gradients are unscaled before they are clipped)."""
    from masa.train.amp import optimiser_step

    torch.manual_seed(0)
    model = torch.nn.Linear(8, 4)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scaler = torch.amp.GradScaler("cpu") if scaled else None
    loss = 100 * model(torch.randn(16, 8)).pow(2).mean()  # gradient norm far above the limit
    optimiser_step(loss, optimizer, scaler, max_norm=0.1)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert torch.linalg.vector_norm(after - before).item() == pytest.approx(0.1, rel=1e-3)


def test_gradient_clipping_setting_is_checked():
    assert resolve(None, ["finetune.grad_clip=2.5"]).finetune.grad_clip == 2.5
    with pytest.raises(ValueError, match="grad_clip"):
        resolve(None, ["finetune.grad_clip=-1"])
