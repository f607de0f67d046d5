"""finetune.ema: the moving average of the weights that fine-tuning validates and releases."""
import json

import pytest
import torch

from masa import release
from masa.config import resolve
from masa.train import checkpoint
from masa.train.averaging import moving_average, warmed_decay
from masa.train.finetune import finetune
from tests.conftest import write_synth_store

SYNTH = ["synth.num_classes=4", "synth.num_signers=3", "synth.val_signers=1", "synth.test_signers=1",
         "synth.min_frames=20", "synth.max_frames=30"]
QUICK = ["finetune.epochs=2", "finetune.batch_size=8", "finetune.num_frames=16", "finetune.lr_milestones=1",
         "finetune.num_workers=0", "model.part_embedding=mlp", "model.part_norm=batch"]


def test_the_average_follows_the_warmed_up_decay():
    """After weights w0, w1, w2 the average is ((w0 d1 + w1 (1 - d1)) d2 + w2 (1 - d2)), with the
    warm-up's d_n = min(decay, (1 + n) / (10 + n)); batch-norm statistics are averaged too and
    the step counter follows the model."""
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    averaged = moving_average(model, 0.9)
    expected = None
    for step, value in enumerate([1.0, 4.0, -2.0]):
        with torch.no_grad():
            model[0].weight.fill_(value)
            model[1].running_mean.fill_(value)
            model[1].num_batches_tracked.fill_(step + 1)
        averaged.update_parameters(model)
        d = warmed_decay(0.9, step)
        expected = value if expected is None else expected * d + value * (1 - d)
    assert warmed_decay(0.9, 1) == pytest.approx(2 / 11) and warmed_decay(0.9, 1000) == 0.9
    torch.testing.assert_close(averaged.module[0].weight, torch.full((2, 3), expected))
    torch.testing.assert_close(averaged.module[1].running_mean, torch.full((2,), expected))
    assert int(averaged.module[1].num_batches_tracked) == 3
    assert moving_average(model, 0.0) is None
    with pytest.raises(ValueError, match="ema"):
        resolve(None, ["finetune.ema=1"])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("ema")
    write_synth_store(root / "store", SYNTH)
    return root / "store"


def metric_rows(run):
    return [{k: v for k, v in json.loads(line).items() if k != "time"} for line in open(run / "metrics.jsonl")]


def test_the_release_holds_the_average_and_resume_restores_it(store, tmp_path):
    """With finetune.ema the release is the averaged model (not the live weights), and a run
    stopped after one epoch and resumed ends with the same average and metrics as one run."""
    ema = SYNTH + QUICK + ["finetune.ema=0.9", "finetune.val_split="]  # keep the last epoch
    finetune(resolve(["tiny"], ema), store, "none", tmp_path / "whole", progress=False)
    finetune(resolve(["tiny"], ema + ["finetune.epochs=1"]), store, "none", tmp_path / "part", progress=False)
    finetune(resolve(["tiny"], ema), store, "none", tmp_path / "part", resume=True, progress=False)
    assert metric_rows(tmp_path / "whole") == metric_rows(tmp_path / "part")

    state = checkpoint.load(tmp_path / "whole" / "checkpoints" / "last.pt")
    resumed = checkpoint.load(tmp_path / "part" / "checkpoints" / "last.pt")
    released, _ = release.load(tmp_path / "whole")
    for name, value in released.state_dict().items():
        torch.testing.assert_close(value, state["averaged"][f"module.{name}"])
        torch.testing.assert_close(value, resumed["averaged"][f"module.{name}"])
    assert not torch.equal(state["model"]["fc.weight"], state["averaged"]["module.fc.weight"])  # an average, not the last step


def test_resuming_with_a_moving_average_needs_one_in_the_checkpoint(store, tmp_path):
    plain = SYNTH + QUICK + ["finetune.epochs=1"]
    finetune(resolve(["tiny"], plain), store, "none", tmp_path / "run", progress=False)
    with pytest.raises(ValueError, match="without finetune.ema"):
        finetune(resolve(["tiny"], plain + ["finetune.epochs=2", "finetune.ema=0.9"]), store, "none",
                 tmp_path / "run", resume=True, progress=False)
