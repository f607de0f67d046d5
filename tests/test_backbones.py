"""Classifier backbones by name: every one forward and backward, padding, learning what a
static-pose model cannot, and a toy backbone through fine-tuning, evaluation, prediction and
export by one registry line."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from masa import release
from masa.cli import main
from masa.config import ModelConfig, resolve
from masa.model import registry
from masa.model.registry import BACKBONES, build_classifier
from masa.train.finetune import finetune
from tests.test_models import grads_missing, poses
from tests.conftest import write_synth_store
from tests.test_bad_input import holistic

SYNTH = ["synth.num_classes=4", "synth.num_signers=6", "synth.val_signers=1", "synth.test_signers=1",
         "synth.min_frames=24", "synth.max_frames=36", "synth.repeats=4"]


@pytest.mark.parametrize("name", sorted(BACKBONES))
def test_every_backbone_forward_backward(name):
    torch.manual_seed(0)
    model = build_classifier(ModelConfig(backbone=name, size="tiny"), num_classes=7)
    xy, present, valid, _ = poses()
    logits = model(xy, present, valid)
    assert logits.shape == (3, 7) and torch.isfinite(logits).all()
    assert model.features(xy, present, valid).shape[0] == 3
    logits.logsumexp(1).sum().backward()
    assert grads_missing(model) == []


@pytest.mark.parametrize("name", ["gru", "tcn"])
def test_baseline_padding_changes_nothing(name):
    torch.manual_seed(0)
    model = build_classifier(ModelConfig(backbone=name, size="tiny"), num_classes=5).eval()
    xy, present, valid, _ = poses(B=2, T=14, lengths=(9, 14))
    with torch.no_grad():
        padded = model(xy, present, valid)[0]
        alone = model(xy[:1, :9], present[:1, :9], valid[:1, :9])[0]
        garbage = xy.clone()
        garbage[0, 9:] = 7.0  # whatever lies in the padding
        moved = model(garbage, present, valid)[0]
    torch.testing.assert_close(padded, alone, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(padded, moved, atol=1e-5, rtol=1e-5)


def test_unknown_backbone_is_named():
    with pytest.raises(ValueError, match="unknown model.backbone 'lstm'.*masa"):
        build_classifier(ModelConfig(backbone="lstm", size="tiny"), 3)


@pytest.fixture(scope="module")
def pairs_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("pairs")
    write_synth_store(root / "store", SYNTH)
    return root


@pytest.mark.parametrize("name", ["gru", "tcn"])
def test_baselines_learn_time_reversed_pairs(pairs_store, name):
    """Classes 2k and 2k+1 are the same poses in opposite order: a static-pose model is at
    chance within a pair (about 50 % here, tests/test_synth.py); order must be learnt."""
    from masa.evaluate.evaluate import evaluate

    # without the preset's cutmix: a run of the partner's frames spliced in is half a reversed pair
    cfg = resolve(["small-data"], SYNTH + [f"model.backbone={name}", "finetune.epochs=25", "finetune.num_frames=32",
                                           "finetune.optimizer=adamw", "finetune.lr=1e-3", "finetune.schedule=cosine",
                                           "finetune.mix=none"])
    out = pairs_store / name
    finetune(cfg, pairs_store / "store", "none", out, progress=False)
    result = evaluate(out, pairs_store / "store", "test", pairs_store / f"eval-{name}", progress=False)
    assert result["top1_per_instance"] >= 0.8, result  # a static-pose model: about 0.5


class MeanPool(nn.Module):
    """A toy backbone: the mean pose over time, then a linear layer."""

    def __init__(self, cfg, num_classes, dropout=0.0):
        super().__init__()
        self.fc = nn.Linear(98, num_classes)

    def features(self, xy, present, valid):
        w = valid[..., None].to(xy.dtype)
        return (xy.flatten(2) * w).sum(1) / w.sum(1).clamp(min=1)

    def forward(self, xy, present, valid):
        return self.fc(self.features(xy, present, valid))


def test_a_new_backbone_is_one_registry_line(pairs_store, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(BACKBONES, "toy", MeanPool)
    sets = [s for o in SYNTH + ["model.backbone=toy", "finetune.epochs=2", "finetune.num_frames=8"] for s in ("--set", o)]
    run = tmp_path / "toy"
    assert main(["finetune", "--data", str(pairs_store / "store"), "--init", "none", "--out", str(run),
                 "--preset", "tiny", "--quiet", *sets]) == 0
    model, meta = release.load(run)
    assert isinstance(model, MeanPool) and meta["model"]["backbone"] == "toy"
    assert main(["evaluate", "--checkpoint", str(run), "--data", str(pairs_store / "store"), "--out",
                 str(tmp_path / "eval"), "--quiet"]) == 0
    capsys.readouterr()
    pose = tmp_path / "sign.npy"
    np.save(pose, holistic(t=20))
    assert main(["predict", "--checkpoint", str(run), str(pose), "--format", "mediapipe-holistic",
                 "--image-size", "640x480", "--json"]) == 0
    predicted = json.loads(capsys.readouterr().out)
    assert len(predicted) == 1 and len(predicted[0]["top"]) == 4  # every class of the pairs corpus
    assert sum(t["probability"] for t in predicted[0]["top"]) == pytest.approx(1, abs=1e-4)
    from masa.data.store import PoseStore
    from masa.export import FramesToLogits, export

    path = export(run, "torchscript", tmp_path / "toy.pt")
    frames = torch.from_numpy(PoseStore(pairs_store / "store")[0][0][:8][None])
    torch.testing.assert_close(torch.jit.load(str(path))(frames), FramesToLogits(model)(frames))
    assert registry.build_classifier(ModelConfig(backbone="toy", size="tiny"), 3).fc.out_features == 3


def test_init_with_a_baseline_is_refused(pairs_store, tmp_path):
    cfg = resolve(["tiny"], SYNTH + ["model.backbone=gru"])
    with pytest.raises(ValueError, match="trains from scratch"):
        finetune(cfg, pairs_store / "store", str(tmp_path / "nowhere"), tmp_path / "x", progress=False)


@pytest.mark.parametrize("setting", ["finetune.freeze_epochs=2", "finetune.encoder_lr_scale=0.1",
                                     "finetune.layer_decay=0.75"])
def test_encoder_settings_on_a_baseline_are_refused(pairs_store, tmp_path, setting):
    """A baseline has no encoder to freeze or slow down: a --set naming the setting is refused,
    not ignored."""
    cfg = resolve(["tiny"], SYNTH + ["model.backbone=gru", setting])
    with pytest.raises(ValueError, match=f"{setting.split('=')[0]}.*has none"):
        finetune(cfg, pairs_store / "store", "none", tmp_path / "x", progress=False,
                 explicit={setting.split("=")[0], "model.backbone"})


def test_a_presets_encoder_settings_leave_a_baseline_alone(pairs_store, tmp_path):
    """The same settings from a preset (small-data's layer decay for masa) do not stop
    `--preset small-data --set model.backbone=gru`: its config.json records the defaults it
    trained with, and a resume under the same preset sees no change."""
    cfg = resolve(["tiny"], SYNTH + ["model.backbone=gru", "finetune.layer_decay=0.75", "finetune.freeze_epochs=2",
                                     "finetune.epochs=1"])
    finetune(cfg, pairs_store / "store", "none", tmp_path / "gru", progress=False, explicit={"model.backbone"})
    saved = json.loads((tmp_path / "gru" / "config.json").read_text())["finetune"]
    assert saved["layer_decay"] == 1.0 and saved["freeze_epochs"] == 0
    # resumed with the same preset, the run's settings have not changed: no history line for them
    finetune(resolve(["tiny"], SYNTH + ["model.backbone=gru", "finetune.layer_decay=0.75", "finetune.epochs=2"]),
             pairs_store / "store", "none", tmp_path / "gru", resume=True, progress=False, explicit={"model.backbone"})
    assert "layer_decay" not in (tmp_path / "gru" / "history.jsonl").read_text()


@pytest.mark.parametrize("name", ["gru", "tcn"])
def test_baseline_release_exports_to_onnx(pairs_store, tmp_path, name):
    pytest.importorskip("onnxruntime")
    import onnxruntime

    from masa.export import FramesToLogits, example_input, export

    cfg = resolve(["tiny"], SYNTH + [f"model.backbone={name}", "finetune.epochs=1", "finetune.num_frames=8"])
    finetune(cfg, pairs_store / "store", "none", tmp_path / "run", progress=False)
    path = export(tmp_path / "run", "onnx", tmp_path / "m.onnx")
    model, _ = release.load(tmp_path / "run")
    frames = example_input(8, batch=3)
    with torch.no_grad():
        eager = FramesToLogits(model)(frames).numpy()
    got = onnxruntime.InferenceSession(str(path)).run(None, {"frames": frames.numpy()})[0]
    np.testing.assert_allclose(got, eager, atol=1e-4, rtol=1e-4)
