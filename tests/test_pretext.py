import pytest
import torch

from masa import pretext
from masa import skeleton as sk
from masa.config import PretextConfig
from masa.inputs import part_presence


def batch(B=3, T=12, lengths=(12, 8, 5), seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.cumsum(torch.randn(B, T, 49, 2, generator=g) * 6, dim=1) + 128
    conf = torch.rand(B, T, 49, generator=g) * 0.6 + 0.4
    valid = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
    xy = xy * valid[..., None, None]
    conf = conf * valid[..., None]
    return xy, conf, valid


def test_motion_residuals_and_weights():
    xy, conf, valid = batch()
    m, w = pretext.motion_residuals(xy, conf, valid, 3)
    torch.testing.assert_close(m[0, 2], xy[0, 5] - xy[0, 2])
    torch.testing.assert_close(w[1, 4], conf[1, 4] * conf[1, 7])
    assert (m[0, 9:] == 0).all() and (w[0, 9:] == 0).all()  # the last k frames of a sample
    assert (m[1, 5:] == 0).all() and (m[2, 2:] == 0).all()  # ... including before padding
    target, weight = pretext.targets(xy, conf, valid, "motion", (3, 1))
    assert target.shape == (3, 12, 49, 4) and weight.shape == (3, 12, 49, 2)
    torch.testing.assert_close(target[0, 2, :, 2:], xy[0, 3] - xy[0, 2])
    joints, jw = pretext.targets(xy, conf, valid, "joints", (3,))
    torch.testing.assert_close(joints, xy)
    assert jw.shape == (3, 12, 49, 1)


def test_code_candidate_rule_counts_signed_coordinates():
    m = torch.zeros(1, 4, 49, 2)
    m[0, 0, 0, 0] = 3.5  # one coordinate above 3: not enough
    m[0, 1, 0, 0], m[0, 1, 3, 1] = 3.5, 4.0  # two: candidate (right hand)
    m[0, 2, 25, :] = -10.0  # negative motion never counts (signed rule)
    m[0, 3, 45, :] = 5.0  # body moves
    cand = pretext.candidates_code(m, torch.ones(1, 4, dtype=torch.bool))
    assert cand[0, :, 0].tolist() == [False, True, False, False]
    assert cand[0, :, 1].tolist() == [False] * 4
    assert cand[0, :, 2].tolist() == [False, False, False, True]


def test_paper_candidate_rule_uses_confident_joints_and_ratio():
    m = torch.zeros(1, 3, 49, 2)
    w = torch.ones(1, 3, 49)
    m[0, 0, :11, 0] = 6.0  # 11 of 21 right-hand joints move more than eps_m = 5
    m[0, 1, :10, 0] = 6.0  # 10 of 21: below delta = 0.5
    w[0, 1, 10:21] = 0.0  # ... unless the others are not confident: 10 of 10
    m[0, 2, :21, 0] = 4.9  # below eps_m
    cand = pretext.candidates_paper(m, w, torch.ones(1, 3, dtype=torch.bool))
    assert cand[0, :, 0].tolist() == [True, True, False]


@pytest.mark.parametrize("strategy", sorted(pretext.MASKINGS))
def test_masks_take_floor_alpha_of_candidates_and_never_padding(strategy):
    xy, conf, valid = batch(B=4, T=40, lengths=(40, 31, 17, 3))
    m, w = pretext.motion_residuals(xy, conf, valid, 3)
    cfg = PretextConfig(strategy=strategy, mask_ratio=0.9)
    masked = pretext.ma_mask(m, w, valid, cfg, torch.Generator().manual_seed(1))
    if strategy == "random":
        cand = valid[..., None].expand_as(masked)
    elif strategy == "motion-paper":
        cand = pretext.candidates_paper(m, w, valid)
    else:
        cand = pretext.candidates_code(m, valid)
    assert not (masked & ~cand).any()
    assert not (masked & ~valid[..., None]).any()
    expected = torch.floor(cand.sum(1) * 0.9 + 1e-6)
    torch.testing.assert_close(masked.sum(1).float(), expected)
    assert cand.sum() > 20  # the random walk moves enough to have candidates


def test_masks_are_random_but_reproducible():
    xy, conf, valid = batch()
    a = pretext.random_mask(valid, 0.5, generator=torch.Generator().manual_seed(3))
    b = pretext.random_mask(valid, 0.5, generator=torch.Generator().manual_seed(3))
    c = pretext.random_mask(valid, 0.5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_sa_view_frames_or_parts():
    _, _, valid = batch(B=2, T=30, lengths=(30, 20))
    frames = pretext.sa_mask(valid, PretextConfig(sa_view="frames"), torch.Generator().manual_seed(0))
    assert (frames[..., 0] == frames[..., 1]).all() and (frames[..., 0] == frames[..., 2]).all()
    assert frames[..., 0].sum(1).tolist() == [15, 10]
    parts = pretext.sa_mask(valid, PretextConfig(sa_view="parts"), torch.Generator().manual_seed(0))
    assert not (parts[..., 0] == parts[..., 1]).all()
    assert parts.sum(1).tolist() == [[15] * 3, [10] * 3]


def test_part_presence():
    conf = torch.zeros(1, 2, 49)
    conf[0, 0, 3] = 0.9
    conf[0, 1, 45] = 0.5
    assert part_presence(conf)[0].tolist() == [[True, False, False], [False, False, True]]


def test_a_masking_strategy_is_one_table_entry(monkeypatch):
    """The setting's choices are the table's names, and a new entry reaches `masa show --masks`."""
    from masa.config_limits import ALLOWED
    from masa.evaluate.show import strategy_masks

    assert set(ALLOWED["pretext.strategy"]) == set(pretext.MASKINGS)
    monkeypatch.setitem(pretext.MASKINGS, "first-half", lambda m, w, valid, cfg: (
        (torch.arange(valid.shape[1]) < valid.shape[1] // 2)[None, :, None] & valid[..., None]).expand(*valid.shape, 3))
    xy, conf, valid = batch(B=1, T=20, lengths=(20,))
    frames = torch.cat([xy, conf[..., None]], dim=-1)[0].numpy()
    masks = strategy_masks(frames, PretextConfig(mask_ratio=0.5))
    assert set(masks) == set(pretext.MASKINGS)
    assert masks["first-half"][10:].sum() == 0 and masks["first-half"][:10].sum(axis=0).tolist() == [5, 5, 5]


def test_sample_scaled_targets_ignore_the_signers_size_and_keep_the_masks():
    xy, conf, valid = batch()
    m, w = pretext.targets(xy, conf, valid, "motion", (3,))
    scaled = pretext.scaled_per_sample(m, w, eps=0.0)
    # a signer twice as large, elsewhere in the frame, moves twice as far: the same scaled target
    big, bw = pretext.targets(2 * xy + 40 * valid[..., None, None], conf, valid, "motion", (3,))
    torch.testing.assert_close(pretext.scaled_per_sample(big, bw, eps=0.0), scaled)
    for s in pretext.PART_SLICES:  # each sample's part has a weighted RMS of 1
        ws = w[:, :, s].repeat_interleave(2, dim=-1)
        rms = ((ws * scaled[:, :, s] ** 2).sum(dim=(1, 2, 3)) / ws.sum(dim=(1, 2, 3))).sqrt()
        torch.testing.assert_close(rms, torch.ones(3))
    still = pretext.scaled_per_sample(m * 1e-3, w)  # a still part is not blown up to unit motion
    assert still.abs().max() < 0.1

    cfg = PretextConfig(target_scale="sample")
    t, _, ma, sa = pretext.make_views(xy, conf, valid, cfg, torch.Generator().manual_seed(0))
    t0, _, ma0, sa0 = pretext.make_views(xy, conf, valid, PretextConfig(), torch.Generator().manual_seed(0))
    torch.testing.assert_close(t, pretext.scaled_per_sample(t0, w))
    assert torch.equal(ma, ma0) and torch.equal(sa, sa0)  # masks are chosen on the pixel motion
    with pytest.raises(ValueError, match="target scale"):
        pretext.make_views(xy, conf, valid, PretextConfig(target_scale="signer"))


def test_sa_view_timing_shows_a_stretched_window_of_each_sample():
    """pretext.sa_crop: each sample's SA view plays one contiguous window of at least sa_crop of
    its real frames, in order, over all its real frames; padding stays as it was."""
    B, T, lengths = 64, 40, torch.randint(2, 41, (64,), generator=torch.Generator().manual_seed(0))
    valid = torch.arange(T)[None] < lengths[:, None]
    frame = torch.arange(T, dtype=torch.float32)[None, :, None].expand(B, T, 49)  # each frame holds its index
    xy, conf = torch.stack([frame, -frame], dim=-1) * valid[..., None, None], (frame + 1) * valid[..., None]
    cfg = PretextConfig(sa_crop=0.5)
    same = pretext.sa_view(xy, conf, valid, PretextConfig())
    assert same[0] is xy and same[1] is conf  # the paper: both views share one timing
    a, ca = pretext.sa_view(xy, conf, valid, cfg, generator=torch.Generator().manual_seed(1))
    b, _ = pretext.sa_view(xy, conf, valid, cfg, generator=torch.Generator().manual_seed(1))
    c, _ = pretext.sa_view(xy, conf, valid, cfg, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert (a[~valid] == 0).all() and (ca[~valid] == 0).all()
    torch.testing.assert_close(ca, (a[..., 0] + 1) * valid[..., None])  # confidences travel with their frames
    cropped = 0
    for i, n in enumerate(lengths.tolist()):
        shown = a[i, :n, 0, 0]
        assert torch.equal(a[i, :n, :, 0], shown[:, None].expand(n, 49)) and torch.equal(a[i, :n, :, 1], -a[i, :n, :, 0])
        window = torch.arange(shown[0], shown[-1] + 1)
        assert torch.equal(shown.unique(), window)  # every frame of one contiguous window, in order
        assert (shown.diff() >= 0).all() and len(window) >= round(0.5 * n) and shown[-1] < n
        cropped += len(window) < n
    assert cropped > B // 2  # most samples lose part of their frames


def test_sa_view_geometry_moves_seen_joints_only_and_is_reproducible():
    xy, conf, valid = batch()
    conf[0, :, 5] = 0  # a joint never seen
    xy[0, :, 5] = 0
    assert pretext.sa_geometry(xy, conf, PretextConfig()) is xy  # the paper: both views share the geometry
    cfg = PretextConfig(sa_rotate=15, sa_scale=0.15, sa_shear=0.15, sa_shift=16)
    a = pretext.sa_geometry(xy, conf, cfg, generator=torch.Generator().manual_seed(1))
    b = pretext.sa_geometry(xy, conf, cfg, generator=torch.Generator().manual_seed(1))
    c = pretext.sa_geometry(xy, conf, cfg, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
    seen = conf > 0
    assert (a[~seen] == 0).all() and (a[seen] != xy[seen]).float().mean() > 0.99
    assert not torch.allclose(a[0], a[1] - xy[1] + xy[0])  # each sample draws its own transform


def test_the_clips_own_geometry_moves_both_views_and_shifts_the_body_only():
    """pretext.rotate/scale/shear/shift move the clip both views start from (a larger corpus in
    effect), drawn as the SA view's own geometry is; the paper's setting returns the clip itself."""
    xy, conf, valid = batch()
    assert pretext.clip_geometry(xy, conf, PretextConfig()) is xy
    moved = pretext.clip_geometry(xy, conf, PretextConfig(rotate=15, scale=0.15, shear=0.15, shift=16),
                                  generator=torch.Generator().manual_seed(1))
    same_draw = pretext.sa_geometry(xy, conf, PretextConfig(sa_rotate=15, sa_scale=0.15, sa_shear=0.15, sa_shift=16),
                                    generator=torch.Generator().manual_seed(1))
    assert torch.equal(moved, same_draw)
    shifted = pretext.clip_geometry(xy, conf, PretextConfig(shift=16), generator=torch.Generator().manual_seed(1))
    seen = conf > 0
    hands = torch.zeros(49, dtype=torch.bool)
    hands[sk.RIGHT_HAND] = hands[sk.LEFT_HAND] = True
    assert torch.equal(shifted[:, :, hands], xy[:, :, hands])  # hand crops have no position to shift
    body = seen & ~hands
    assert (shifted[body] != xy[body]).float().mean() > 0.99
    for b in range(len(xy)):  # one shift per sample, the same in every frame: the body's motion is unchanged
        step = (shifted[b] - xy[b])[body[b]]
        assert torch.allclose(step, step[:1].expand_as(step), atol=1e-4) and step[0].abs().max() > 0
