"""finetune.precise_bn: batch-norm statistics recomputed for the weights that are validated,
released and checkpointed."""
import copy
import json

import numpy as np
import pytest
import torch

from masa import release
from masa.config import resolve
from masa.data.store import PoseStore
from masa.model.registry import build_classifier
from masa.train import checkpoint
from masa.train.finetune import finetune
from masa.train.precise_bn import PreciseBatchNorm, spread_subset
from tests.conftest import write_synth_store

SYNTH = ["synth.num_classes=4", "synth.num_signers=3", "synth.val_signers=1", "synth.test_signers=1",
         "synth.min_frames=20", "synth.max_frames=30"]
# the small-data encoder (an MLP per part with layer norm): its batch norm is in the temporal convolutions
MODEL = ["model.part_embedding=mlp", "model.part_norm=layer", "model.pool=frames", "model.embed_dropout=0"]
QUICK = ["finetune.epochs=2", "finetune.batch_size=8", "finetune.num_frames=16", "finetune.lr_milestones=1",
         "finetune.num_workers=0", "finetune.lr=0.05"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_synth_store(tmp_path_factory.mktemp("pbn") / "store", SYNTH)


def batch_norms(model):
    return {n: m for n, m in model.named_modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)}


def statistics(model):
    return {n: (m.running_mean.clone(), m.running_var.clone()) for n, m in batch_norms(model).items()}


def test_the_statistics_are_the_clips_for_these_weights(store):
    """Stale statistics are replaced by those of the unaugmented training clips through the
    current weights: what one training-mode pass with momentum 1 (the last batch's statistics
    only) records, when the clips make one batch. The weights and the mode are left alone."""
    cfg = resolve(["tiny"], SYNTH + QUICK + MODEL + ["finetune.batch_size=64"])
    pose_store = PoseStore(store)
    train_idx = pose_store.labelled("train")
    assert 8 < len(train_idx) <= 64
    model = build_classifier(cfg.model, len(pose_store.classes)).eval()
    assert len(batch_norms(model)) == 4  # the hands' and the body's two temporal blocks
    for bn in batch_norms(model).values():
        bn.running_mean.fill_(5.0)
        bn.running_var.fill_(1e-3)
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k}

    precise = PreciseBatchNorm(pose_store, train_idx, cfg, len(train_idx), "cpu")
    reference = copy.deepcopy(model).train()
    for bn in batch_norms(reference).values():
        bn.momentum = 1.0
    with torch.no_grad():
        (inputs,), = list(precise.batches())
        reference(*inputs)
    precise.recompute(model)

    assert not model.training
    for k, v in weights.items():
        torch.testing.assert_close(model.state_dict()[k], v, rtol=0, atol=0)
    got, want = statistics(model), statistics(reference)
    for name in got:
        torch.testing.assert_close(got[name][0], want[name][0])
        torch.testing.assert_close(got[name][1], want[name][1])
        assert got[name][0].abs().max() < 5.0  # the stale values are gone


def test_a_subset_is_evenly_spread_and_the_same_each_time():
    idx = np.arange(10, 20)
    assert spread_subset(idx, 4).tolist() == [10, 13, 16, 19]
    assert spread_subset(idx, 10).tolist() == idx.tolist() and spread_subset(idx, 50).tolist() == idx.tolist()


def test_a_model_without_batch_norm_is_left_alone(store):
    cfg = resolve(["tiny"], SYNTH + QUICK + ["model.backbone=gru"])
    pose_store = PoseStore(store)
    model = build_classifier(cfg.model, len(pose_store.classes))
    assert not batch_norms(model)
    precise = PreciseBatchNorm(pose_store, pose_store.labelled("train"), cfg, 4, "cpu")

    def no_pass():  # a generator, as batches() is: it fails only when a batch is asked for
        pytest.fail("a model without batch norm needs no pass over the clips")
        yield

    precise.batches = no_pass
    precise.recompute(model)


def released_statistics_are_recomputed(run, store, cfg) -> bool:
    model, _ = release.load(run)
    before = statistics(model)
    pose_store = PoseStore(store)
    PreciseBatchNorm(pose_store, pose_store.labelled("train"), cfg, 10_000, "cpu").recompute(model)
    return all(torch.allclose(before[n][0], after[0], atol=1e-5) and torch.allclose(before[n][1], after[1], atol=1e-5)
               for n, after in statistics(model).items())


def test_fine_tuning_releases_recomputed_statistics_and_resumes_exactly(store, tmp_path):
    cfg = resolve(["tiny"], SYNTH + QUICK + MODEL + ["finetune.precise_bn=1000"])
    finetune(cfg, store, "none", tmp_path / "whole", progress=False)
    assert released_statistics_are_recomputed(tmp_path / "whole", store, cfg)
    plain = resolve(["tiny"], SYNTH + QUICK + MODEL)
    finetune(plain, store, "none", tmp_path / "plain", progress=False)
    assert not released_statistics_are_recomputed(tmp_path / "plain", store, plain)  # so the check can tell

    one = resolve(["tiny"], SYNTH + QUICK + MODEL + ["finetune.precise_bn=1000", "finetune.epochs=1"])
    finetune(one, store, "none", tmp_path / "part", progress=False)
    finetune(cfg, store, "none", tmp_path / "part", resume=True, progress=False)
    rows = [[{k: v for k, v in json.loads(line).items() if k != "time"} for line in open(tmp_path / run / "metrics.jsonl")]
            for run in ("whole", "part")]
    assert rows[0] == rows[1]
    states = [checkpoint.load(tmp_path / run / "checkpoints" / "last.pt")["model"] for run in ("whole", "part")]
    for k in states[0]:
        torch.testing.assert_close(states[0][k], states[1][k], rtol=0, atol=0)


def test_the_setting_is_checked():
    with pytest.raises(ValueError, match="precise_bn"):
        resolve(["tiny"], ["finetune.precise_bn=-1"])


def test_training_is_the_same_with_or_without_it(store, tmp_path):
    """The pass draws no random numbers that training sees (dropout runs in it, and a DataLoader
    draws its seed): a run with it trains exactly as one without, only validation and the pick
    differ, so the two compare epoch by epoch."""
    rows = {}
    for clips in (0, 1000):
        cfg = resolve(["tiny"], SYNTH + QUICK + MODEL + ["finetune.epochs=3", "model.dropout=0.3", f"finetune.precise_bn={clips}"])
        finetune(cfg, store, "none", tmp_path / str(clips), progress=False)
        rows[clips] = [json.loads(line) for line in open(tmp_path / str(clips) / "metrics.jsonl")]
    trained = [[(r["loss"], r["train_top1"]) for r in rows[clips]] for clips in (0, 1000)]
    assert len(trained[0]) == 3 and trained[0] == trained[1]
    assert [r["val_loss"] for r in rows[0]] != [r["val_loss"] for r in rows[1000]]  # the statistics did change
