"""The synthetic corpus must be learnable from motion and not from static poses."""
import numpy as np
import pytest

from masa.config import NormaliseConfig, SynthConfig
from masa.data.synth import synthesise
from masa.poses.normalise import normalise, truncate_confidence


@pytest.fixture(scope="module")
def corpus():
    cfg = SynthConfig()
    sources, table = synthesise(cfg)
    norm = NormaliseConfig()
    frames = [truncate_confidence(normalise(s.load(), norm)[0], norm) for s in sources]
    ann = [table.entries[s.id] for s in sources]
    return cfg, sources, frames, np.array([a.label for a in ann]), np.array([a.split for a in ann])


def ridge_accuracy(features, labels, splits):
    """Linear ridge classifier fitted on train, accuracy on test."""
    F = np.asarray(features)
    tr, te = splits == "train", splits == "test"
    mu, sd = F[tr].mean(0), F[tr].std(0) + 1e-6
    F = (F - mu) / sd
    Y = np.eye(labels.max() + 1)[labels]
    W = np.linalg.solve(F[tr].T @ F[tr] + 10 * np.eye(F.shape[1]), F[tr].T @ Y[tr])
    return float(((F[te] @ W).argmax(1) == labels[te]).mean())


def static_features(f):
    return (f[..., :2] / 256).reshape(len(f), -1).mean(0)


def temporal_features(f):
    return np.concatenate([static_features(p) for p in np.array_split(f, 4)])


def test_sizes_splits_and_labels(corpus):
    cfg, sources, frames, labels, splits = corpus
    assert len(sources) == cfg.num_classes * cfg.num_signers * cfg.repeats
    assert np.bincount(labels).tolist() == [cfg.num_signers * cfg.repeats] * cfg.num_classes
    assert (splits == "test").sum() == cfg.test_signers * cfg.num_classes * cfg.repeats
    signer_of = {s.id.split("/")[0] for s, sp in zip(sources, splits) if sp == "test"}
    assert signer_of.isdisjoint({s.id.split("/")[0] for s, sp in zip(sources, splits) if sp == "train"})
    assert all(cfg.min_frames * 0.5 <= len(f) <= cfg.max_frames for f in frames)


def test_deterministic_given_the_seed():
    a, _ = synthesise(SynthConfig(num_classes=4, num_signers=2, repeats=1))
    b, _ = synthesise(SynthConfig(num_classes=4, num_signers=2, repeats=1))
    c, _ = synthesise(SynthConfig(num_classes=4, num_signers=2, repeats=1, seed=1))
    np.testing.assert_array_equal(a[3].load().xy, b[3].load().xy)
    assert not np.array_equal(a[3].load().xy[:10], c[3].load().xy[:10])


def test_estimator_noise_is_present(corpus):
    _, _, frames, _, _ = corpus
    conf = np.concatenate([f[..., 2] for f in frames])
    hand_missing = (conf[:, :21] == 0).all(1).mean()
    assert 0.01 < hand_missing < 0.2
    assert ((conf > 0) & (conf < 0.4)).mean() == 0  # low confidences were truncated at eps_c
    raw = synthesise(SynthConfig(num_classes=2, num_signers=1, repeats=1))[0][0].load().conf
    assert ((raw > 0) & (raw < 0.4)).any()


def test_static_pose_fails_and_motion_succeeds(corpus):
    _, _, frames, labels, splits = corpus
    chance = 1 / (labels.max() + 1)
    static = ridge_accuracy([static_features(f) for f in frames], labels, splits)
    temporal = ridge_accuracy([temporal_features(f) for f in frames], labels, splits)
    assert static < 0.5, static  # time-reversed pairs share every pose
    assert temporal > static + 0.25, (static, temporal)
    assert temporal > 10 * chance


def test_reversed_pairs_share_their_poses(corpus):
    _, sources, frames, labels, splits = corpus
    a = [f for f, l in zip(frames, labels) if l == 0]
    b = [f for f, l in zip(frames, labels) if l == 1]
    pair_gap = abs(np.mean([static_features(f) for f in a], 0) - np.mean([static_features(f) for f in b], 0)).mean()
    order_gap = abs(np.mean([temporal_features(f)[:98] for f in a], 0) - np.mean([temporal_features(f)[:98] for f in b], 0)).mean()
    assert order_gap > 3 * pair_gap
