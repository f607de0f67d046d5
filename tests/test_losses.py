import math

import pytest
import torch

from masa import losses
from masa.config import PretrainConfig
from masa.train.schedule import learning_rate


def fake(B=2, T=6, C=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    target = torch.randn(B, T, 49, C, generator=g) * 8
    weight = torch.rand(B, T, 49, C // 2, generator=g)
    pred = {"right": torch.randn(B, T, 21, C, generator=g), "left": torch.randn(B, T, 21, C, generator=g),
            "body": torch.randn(B, T, 7, C, generator=g)}
    masked = torch.rand(B, T, 3, generator=g) < 0.5
    return pred, target, weight, masked


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_predictions_on_unmasked_frames_do_not_matter(kind):
    pred, target, weight, masked = fake()
    base = losses.motion_loss(pred, target, weight, masked, kind)
    changed = {k: v.clone() for k, v in pred.items()}
    for p, name in enumerate(("right", "left", "body")):
        changed[name][~masked[..., p]] += 1000.0
    assert losses.motion_loss(changed, target, weight, masked, kind) == pytest.approx(base.item(), rel=1e-6)
    changed["right"][masked[..., 0]] += 1.0
    assert losses.motion_loss(changed, target, weight, masked, kind) != pytest.approx(base.item(), rel=1e-6)


def test_l2_matches_a_hand_computation():
    pred, target, weight, masked = fake(B=1, T=2)
    masked[:] = False
    masked[0, 1, 2] = True  # only the body of frame 1
    err = (pred["body"][0, 1] - target[0, 1, 42:]) * weight[0, 1, 42:]
    expected = (err**2).sum() / (1 * 7 + 1)
    assert losses.motion_loss(pred, target, weight, masked, "l2").item() == pytest.approx(expected.item(), rel=1e-5)


def test_l1_code_weights_only_positive_residuals_above_threshold():
    pred, target, weight, masked = fake(B=1, T=1)
    masked[:] = False
    masked[0, 0, 0] = True
    t = target[0, 0, :21]
    keep = (t > 3.0).float()
    expected = 10 * ((pred["right"][0, 0] - t).abs() * weight[0, 0, :21] * keep).sum() / (21 + 1)
    got = losses.motion_loss(pred, target, weight, masked, "l1", scale=10)
    assert got.item() == pytest.approx(expected.item(), rel=1e-5)


def test_info_nce():
    logits = torch.tensor([[10.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    expected = (-math.log(math.exp(10) / (math.exp(10) + 2)) + math.log(3)) / 2
    assert losses.info_nce(logits).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("epoch, value", [(0, 0.0), (1, 0.0005), (50, 0.025), (99.7, 0.0495), (100, 0.05), (300, 0.05)])
def test_lambda_s_ramp(epoch, value):
    assert losses.lambda_s(epoch, 0.05, 100) == pytest.approx(value)


@pytest.mark.parametrize("epoch, lr", [(0, 0.0), (10, 5e-5), (20, 1e-4), (210, 5e-5), (400, 0.0)])
def test_paper_schedule(epoch, lr):
    assert learning_rate(epoch, PretrainConfig()) == pytest.approx(lr, abs=1e-12)


@pytest.mark.parametrize("epoch, lr", [(0, 0.0), (0.9, 0.0), (10, 5e-5), (10.5, 5e-5), (20, 1e-4), (119, 1e-4),
                                       (120, 5e-5), (220, 2.5e-5), (320, 1.25e-5), (370, 6.25e-6), (399, 6.25e-6)])
def test_authors_code_schedule(epoch, lr):
    cfg = PretrainConfig(schedule="steps", lr_per_epoch=True)
    assert learning_rate(epoch, cfg) == pytest.approx(lr, abs=1e-12)
