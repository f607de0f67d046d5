"""Pose augmentation, the shoulder frame of reference and wrists taken from hands."""
import numpy as np
import pytest

from masa import skeleton as sk
from masa.config import AugmentConfig, NormaliseConfig
from masa.data.augment import augment, drop, geometry, geometry_batch, mirror, temporal_crop
from masa.poses.normalise import fill_wrists_from_hands, normalise, shoulder_frame
from masa.poses.record import make_pose
from tests.conftest import hand_points

ALL = AugmentConfig(rotate=20, scale=0.2, shear=0.2, shift=20, mirror=1.0, joint_drop=0.1, hand_drop=0.2, crop=0.6)


def raw_pose(seed=0, frames=12, W=640, H=480):
    """A signer with both hands and the upper body, moving; some joints missing."""
    rng = np.random.default_rng(seed)
    xy = np.zeros((frames, 49, 2), np.float32)
    conf = np.ones((frames, 49), np.float32)
    for t in range(frames):
        xy[t, sk.RIGHT_HAND] = hand_points((220 + 5 * t, 260 - 3 * t), 70, rng)
        xy[t, sk.LEFT_HAND] = hand_points((430 - 2 * t, 280 + 4 * t), 60, rng)
        xy[t, sk.BODY] = [(320, 150), (390, 230), (420, 330), (430, 290), (250, 230), (215, 330), (220, 270)]
        xy[t, sk.BODY] += rng.normal(0, 2, (7, 2))
    conf[3, sk.LEFT_HAND] = 0  # the left hand is lost in frame 3
    conf[5, 7] = 0
    return make_pose(xy, conf, (W, H))


def frames_of(pose, **kw):
    return normalise(pose, NormaliseConfig(**kw))[0]


def mirrored_video(pose):
    """The same signing filmed in a mirror: x -> W - x, and the left and right joints swap."""
    W = pose.image_size[0]
    perm = list(sk.SWAP_LEFT_RIGHT)
    xy = pose.xy[:, perm].copy()
    xy[..., 0] = np.where(pose.conf[:, perm] > 0, W - xy[..., 0], 0)
    return make_pose(xy, pose.conf[:, perm], pose.image_size)


@pytest.mark.parametrize("mirror_left_hand", [True, False])
def test_mirror_equals_normalising_the_mirrored_video(mirror_left_hand):
    pose = raw_pose()
    clip = frames_of(pose, mirror_left_hand=mirror_left_hand)
    expected = frames_of(mirrored_video(pose), mirror_left_hand=mirror_left_hand)
    np.testing.assert_allclose(mirror(clip, mirror_left_hand), expected, atol=1e-3)
    np.testing.assert_allclose(mirror(mirror(clip, mirror_left_hand), mirror_left_hand), clip, atol=1e-4)


def test_every_augmentation_keeps_shape_and_missing_joints():
    clip = frames_of(raw_pose())
    clip[:, sk.BODY][:, 0] = 0  # a body joint missing everywhere
    missing = clip[..., 2] == 0
    for seed in range(20):
        out = augment(clip, np.random.default_rng(seed), ALL)
        assert out.shape == clip.shape and out.dtype == np.float32
        lost = out[..., 2] == 0
        assert (out[lost] == 0).all()  # a lost joint is (0, 0, 0), never a point at the origin with a confidence
        # mirroring moves joints between slots; compare the set of missing joints after undoing it
        assert lost.sum() >= missing.sum()


def test_geometry_is_rigid_for_the_hands_and_leaves_confidence():
    clip = frames_of(raw_pose())
    out = geometry(clip, np.random.default_rng(0), AugmentConfig(rotate=30, shift=30, scale=0.3))
    for part in (sk.RIGHT_HAND, sk.LEFT_HAND):
        a, b = clip[2, part, :2], out[2, part, :2]
        d = lambda p: np.linalg.norm(p[:, None] - p[None], axis=-1)  # noqa: E731
        np.testing.assert_allclose(d(a), d(b), rtol=1e-4, atol=1e-3)  # rotation only: crops are scale-free
    np.testing.assert_array_equal(out[..., 2], clip[..., 2])
    assert not np.allclose(out[:, sk.BODY, :2], clip[:, sk.BODY, :2])


@pytest.mark.parametrize("mirrored_left", [True, False])
def test_geometry_on_a_batch_equals_geometry_on_each_clip(mirrored_left):
    """The pre-training SA view's batched geometry is the fine-tuning augmentation's, clip by clip."""
    import torch
    clips = [frames_of(raw_pose(seed), mirror_left_hand=mirrored_left) for seed in range(3)]
    cfg = AugmentConfig(rotate=25, shear=0.2, scale=0.2, shift=20)
    params, expected = [], []
    for i, clip in enumerate(clips):
        expected.append(geometry(clip, np.random.default_rng(i), cfg, mirrored_left))
        rng = np.random.default_rng(i)  # the same draws, in geometry's order
        params.append((np.deg2rad(rng.uniform(-25, 25)), rng.uniform(-0.2, 0.2), rng.uniform(0.8, 1.2),
                       rng.uniform(-20, 20, size=2)))
    batch = torch.from_numpy(np.stack(clips))
    angle, shear, scale = (torch.tensor([p[k] for p in params], dtype=torch.float32) for k in range(3))
    shift = torch.tensor(np.stack([p[3] for p in params]), dtype=torch.float32)
    out = geometry_batch(batch[..., :2], batch[..., 2] > 0, angle, shear, scale, shift, mirrored_left)
    np.testing.assert_allclose(out.numpy(), np.stack(expected)[..., :2], atol=1e-3)


def test_dropout_rates_and_hands_as_a_whole():
    clip = np.ones((200, 49, 3), np.float32)
    out = drop(clip, np.random.default_rng(0), joint_p=0.1, hand_p=0.0)
    assert 0.07 < (out[..., 2] == 0).mean() < 0.13
    out = drop(clip, np.random.default_rng(0), joint_p=0.0, hand_p=0.3)
    right = (out[:, sk.RIGHT_HAND, 2] == 0)
    assert (right.all(1) | ~right.any(1)).all()  # a hand goes whole, never joint by joint
    assert 0.2 < right.all(1).mean() < 0.4 and (out[:, sk.BODY] == 1).all()


def test_temporal_crop_stays_inside_and_covers_the_fraction():
    rng = np.random.default_rng(0)
    for _ in range(100):
        start, stop = temporal_crop(40, rng, 0.5)
        assert 0 <= start < stop <= 40 and stop - start >= 20
    assert temporal_crop(40, rng, 1.0) == (0, 40)


def test_shoulder_frame_centres_and_scales_the_body():
    a = frames_of(raw_pose(W=640, H=480))
    b = frames_of(raw_pose(W=1280, H=960))  # the same signer filmed in a larger frame
    for frames in (a, b):
        out = shoulder_frame(frames)
        ls, rs = out[:, sk.JOINT_INDEX["left_shoulder"], :2], out[:, sk.JOINT_INDEX["right_shoulder"], :2]
        np.testing.assert_allclose(np.median((ls + rs) / 2, 0), [128, 128], atol=1e-3)
        assert np.median(np.linalg.norm(ls - rs, axis=1)) == pytest.approx(64, rel=1e-3)
        np.testing.assert_array_equal(out[:, :42], frames[:, :42])  # hands untouched
    np.testing.assert_allclose(shoulder_frame(a)[:, sk.BODY], shoulder_frame(b)[:, sk.BODY], atol=0.5)


def test_wrists_from_hands_fill_only_what_is_missing():
    pose = raw_pose()
    xy, conf = pose.xy.copy(), pose.conf.copy()
    rw, lw = sk.JOINT_INDEX["right_wrist"], sk.JOINT_INDEX["left_wrist"]
    conf[:, sk.BODY], xy[:, sk.BODY] = 0, 0  # a hands-only estimator
    conf[0, rw], xy[0, rw] = 0.9, (1, 2)  # ... that did see one wrist once
    fx, fc = fill_wrists_from_hands(xy, conf)
    np.testing.assert_array_equal(fx[1:, rw], xy[1:, 0])
    np.testing.assert_array_equal(fx[0, rw], [1, 2])
    assert fc[3, lw] == 0 and (fc[np.arange(12) != 3, lw] == 1).all()  # no left hand in frame 3, no wrist
    assert (fc[:, sk.BODY][:, [0, 1, 2, 4, 5]] == 0).all()


def test_import_with_the_small_data_preset_keeps_where_hands_only_data_has_its_hands(tmp_path):
    from masa.cli import main
    from masa.data.store import PoseStore

    rng = np.random.default_rng(0)
    hands = np.zeros((10, 2, 21, 3))
    hands[:, 0, :, :2] = 0.3 + rng.uniform(-0.05, 0.05, (10, 21, 2))  # one hand, normalised coordinates
    (tmp_path / "src").mkdir()
    np.save(tmp_path / "src" / "clip.npy", hands.reshape(10, 126))
    for preset, wrists in ((["--preset", "small-data"], True), ([], False)):
        out = tmp_path / f"store{wrists}"
        assert main(["data", "import", str(tmp_path / "src"), "--format", "mediapipe-hands", "--image-size",
                     "640x480", "--out", str(out), "--quiet", *preset]) == 0
        frames = PoseStore(out)[0][0]
        body_seen = (frames[:, sk.BODY, 2] > 0).any()
        assert body_seen == wrists
