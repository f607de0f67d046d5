import numpy as np
import pytest

from masa.config import NormaliseConfig
from masa.poses.normalise import fill_gaps, normalise, prepare_frames, select_frames, truncate_confidence
from masa.poses.record import make_pose
from masa.skeleton import BODY, JOINT_INDEX, LEFT_HAND, RIGHT_HAND

W, H = 640, 480


def pose_with(right=None, left=None, body=None, frames=1, right_conf=None):
    xy = np.zeros((frames, 49, 2), np.float32)
    conf = np.zeros((frames, 49), np.float32)
    for part, pts, c in ((RIGHT_HAND, right, right_conf), (LEFT_HAND, left, None), (BODY, body, None)):
        if pts is not None:
            xy[:, part] = pts
            conf[:, part] = 0.9 if c is None else c
    return make_pose(xy, conf, (W, H))


def grid_hand(x0, x1, y0, y1):
    xs = np.linspace(x0, x1, 21)
    ys = np.linspace(y0, y1, 21)[::-1]
    return np.stack([xs, ys], 1)


def test_hand_crop_box_and_coordinates():
    hand = grid_hand(100, 140, 200, 220)  # extent 40 x 20 -> box side 88 centred at (120, 210)
    out, keep = normalise(pose_with(right=hand), NormaliseConfig())
    side, u0, v0 = 2.2 * 40, 120 - 44, 210 - 44
    expected = (hand - [u0, v0]) / side * 256
    np.testing.assert_allclose(out[0, RIGHT_HAND, :2], expected, atol=1e-3)
    assert out[0, RIGHT_HAND, 2].min() == pytest.approx(0.9)
    assert list(keep) == [0]


def test_box_is_shifted_inside_the_image():
    hand = grid_hand(0, 30, 200, 230)  # centre x 15, side 66: the box would start at -18
    out, _ = normalise(pose_with(right=hand), NormaliseConfig())
    np.testing.assert_allclose(out[0, RIGHT_HAND, 0], hand[:, 0] / 66 * 256, atol=1e-3)


def test_left_hand_is_mirrored_as_an_option():
    hand = grid_hand(300, 340, 200, 220)
    mirrored, _ = normalise(pose_with(left=hand), NormaliseConfig())
    plain, _ = normalise(pose_with(left=hand), NormaliseConfig(mirror_left_hand=False))
    np.testing.assert_allclose(mirrored[0, LEFT_HAND, 0], 256 - plain[0, LEFT_HAND, 0], atol=1e-4)
    np.testing.assert_allclose(mirrored[0, LEFT_HAND, 1], plain[0, LEFT_HAND, 1])


def test_body_is_divided_by_image_size():
    body = np.array([[320, 120], [400, 240], [420, 300], [430, 360], [240, 240], [220, 300], [210, 360]], np.float32)
    out, _ = normalise(pose_with(right=grid_hand(100, 140, 200, 220), body=body), NormaliseConfig())
    np.testing.assert_allclose(out[0, BODY, :2], body / [W, H] * 256, atol=1e-4)


def arm_body(wrist=(200, 300)):
    body = np.zeros((7, 2), np.float32)
    body[JOINT_INDEX["right_shoulder"] - 42] = (230, 150)
    body[JOINT_INDEX["right_elbow"] - 42] = (210, 230)
    body[JOINT_INDEX["right_wrist"] - 42] = wrist
    return body


def test_arm_fallback_box_when_the_hand_is_barely_seen():
    hand = grid_hand(190, 215, 300, 330)
    conf = np.zeros(21, np.float32)
    conf[:5] = 0.9  # only 5 visible joints: too few for a box of their own
    out, keep = normalise(pose_with(right=hand, right_conf=conf, body=arm_body()), NormaliseConfig(arm_conf_threshold=0.8))
    wrist, elbow, shoulder = np.array([200, 300.0]), np.array([210, 230.0]), np.array([230, 150.0])
    side = 1.1 * max(np.linalg.norm(wrist - elbow), 0.9 * np.linalg.norm(elbow - shoulder))
    start = wrist + 0.33 * (wrist - elbow) - side / 2
    np.testing.assert_allclose(out[0, RIGHT_HAND, :2][:5], np.clip((hand[:5] - start) / side * 256, 0, 256), atol=1e-3)
    assert (out[0, RIGHT_HAND, 2][5:] == 0).all() and len(keep) == 1


def test_no_box_drops_the_frame_and_zeroes_the_hand():
    hand = grid_hand(190, 215, 300, 330)
    conf = np.zeros(21, np.float32)
    conf[:5] = 0.9
    cfg = NormaliseConfig(arm_fallback=False)
    pose = pose_with(right=hand, right_conf=conf, body=arm_body())
    out, keep = normalise(pose, cfg)
    assert len(out) == 0 and len(keep) == 0
    out, _ = normalise(pose, NormaliseConfig(arm_fallback=False, drop_handless_frames=False))
    assert (out[0, RIGHT_HAND] == 0).all()


def test_arm_fallback_refuses_a_wrist_at_the_bottom_edge():
    hand = grid_hand(190, 215, 440, 470)
    conf = np.zeros(21, np.float32)
    conf[:5] = 0.9
    out, _ = normalise(pose_with(right=hand, right_conf=conf, body=arm_body(wrist=(200, 470))), NormaliseConfig())
    assert len(out) == 0


@pytest.mark.parametrize("length, kept", [(150, 150), (151, 76), (300, 150), (400, 134), (30, 30)])
def test_long_videos_are_strided(length, kept):
    assert len(select_frames(length, NormaliseConfig())) == kept


def test_missing_joints_stay_zero():
    hand = grid_hand(100, 140, 200, 220)
    conf = np.full(21, 0.9, np.float32)
    conf[20] = 0.0
    out, _ = normalise(pose_with(right=hand, right_conf=conf), NormaliseConfig())
    assert (out[0, 20] == 0).all()
    assert (out[0, LEFT_HAND] == 0).all()


def test_confidence_truncation_zeroes_low_joints_per_part():
    frames = np.ones((2, 49, 3), np.float32) * 100
    frames[..., 2] = 0.45
    cfg = NormaliseConfig(hand_conf_threshold=0.5, body_conf_threshold=0.0)
    out = truncate_confidence(frames, cfg)
    assert (out[:, :42] == 0).all()
    np.testing.assert_array_equal(out[:, 42:], frames[:, 42:])
    out = truncate_confidence(frames, NormaliseConfig(hand_conf_threshold=0.4, body_conf_threshold=0.5))
    assert (out[:, :42, 2] == pytest.approx(0.45)) and (out[:, 42:] == 0).all()
    assert frames[0, 0, 2] == pytest.approx(0.45)  # the input is left alone


def test_fill_gaps_draws_short_gaps_on_the_line_and_leaves_the_rest():
    """normalise.fill_gaps: a joint lost for at most N frames between two frames that see it is
    drawn on the straight line between them, with the lower of their confidences; a longer gap,
    the sample's start and end and every seen joint stay as they were; 0 changes nothing; and
    prepare_frames fills after eps_c, so a joint below the threshold counts as lost."""
    T = 10
    frames = np.zeros((T, 49, 3), np.float32)
    frames[:, 0] = np.stack([np.arange(T) * 10.0, np.full(T, 5.0), np.full(T, 0.9)], axis=1)  # a wrist moving right
    frames[5, 0, 2] = 0.6
    frames[[0, 3, 4], 0] = 0  # lost at the start, and for two frames
    frames[:, 42] = [100, 100, 0.9]
    frames[2:9, 42] = 0  # the nose lost for seven frames
    out = fill_gaps(frames, 2)
    np.testing.assert_allclose(out[3:5, 0], [[30, 5, 0.6], [40, 5, 0.6]])
    changed = np.zeros((T, 49), bool)
    changed[3:5, 0] = True
    np.testing.assert_array_equal(out[~changed], frames[~changed])  # the start, the long gap, all else
    np.testing.assert_array_equal(fill_gaps(frames, 0), frames)
    np.testing.assert_allclose(fill_gaps(frames, 7)[2:9, 42], np.tile([100, 100, 0.9], (7, 1)))

    low = frames.copy()
    low[6, 0, 2] = 0.3  # under eps_c = 0.4: lost when read
    prepared = prepare_frames(low, NormaliseConfig(fill_gaps=1))
    np.testing.assert_allclose(prepared[6, 0], [60, 5, 0.6])  # between frame 5 (0.6) and frame 7 (0.9)
    assert (prepared[3:5, 0] == 0).all()  # two frames: longer than 1
