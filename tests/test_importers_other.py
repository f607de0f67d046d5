"""MediaPipe, OpenPose, pose-format and generic npz importers."""
import json

import numpy as np
import pytest

from masa.poses import ImportOptions, PoseError, find_samples, read_pose
from masa.poses.hands import assign_hands
from masa.poses.npz_layout import read_layout
from masa.skeleton import BODY, JOINT_INDEX, LEFT_HAND, RIGHT_HAND
from tests.conftest import write_json

ix = JOINT_INDEX
T = 5


def holistic(t=T, seed=0):
    """(t, 543, 4) in MediaPipe's order pose 33, face 468, left 21, right 21; hands absent in frame 1."""
    rng = np.random.default_rng(seed)
    arr = rng.uniform(0.2, 0.8, (t, 543, 4)).astype(np.float32)
    arr[1, 501:543, :3] = np.nan
    return arr


def test_holistic_543_maps_pose_and_hands(tmp_path):
    arr = holistic()
    np.save(tmp_path / "a.npy", arr)
    pose = read_pose(tmp_path / "a.npy", "mediapipe-holistic", ImportOptions(image_size=(640, 480)))
    np.testing.assert_allclose(pose.xy[:, ix["nose"]], arr[:, 0, :2] * [640, 480], rtol=1e-5)
    np.testing.assert_allclose(pose.xy[:, ix["right_wrist"]], arr[:, 16, :2] * [640, 480], rtol=1e-5)
    np.testing.assert_allclose(pose.conf[:, ix["left_elbow"]], arr[:, 13, 3], rtol=1e-6)
    np.testing.assert_allclose(pose.xy[0, ix["left_hand_wrist"]], arr[0, 501, :2] * [640, 480], rtol=1e-5)
    np.testing.assert_allclose(pose.xy[0, ix["right_hand_little_tip"]], arr[0, 542, :2] * [640, 480], rtol=1e-5)
    assert (pose.conf[1, :42] == 0).all() and (pose.xy[1, :42] == 0).all()  # NaN hand -> missing
    assert (pose.conf[0, :42] == 1).all()
    assert pose.image_size == (640.0, 480.0)


def test_holistic_kaggle_order_75_points_and_flat_vectors(tmp_path):
    arr = holistic()
    pose_c, face, left, right = arr[:, :33], arr[:, 33:501], arr[:, 501:522], arr[:, 522:]
    ref = read_pose(_save(tmp_path / "ref.npy", arr), "mediapipe-holistic")
    kaggle = np.concatenate([face, left, pose_c, right], 1)
    got = read_pose(_save(tmp_path / "k.npy", kaggle), "mediapipe-holistic", ImportOptions(holistic_order="face,left,pose,right"))
    np.testing.assert_allclose(got.xy, ref.xy)
    small = np.concatenate([pose_c, left, right], 1)
    np.testing.assert_allclose(read_pose(_save(tmp_path / "s.npy", small), "mediapipe-holistic").xy, ref.xy)
    flat = np.concatenate([pose_c.reshape(T, -1), face[..., :3].reshape(T, -1), left[..., :3].reshape(T, -1), right[..., :3].reshape(T, -1)], 1)
    assert flat.shape == (T, 1662)
    got = read_pose(_save(tmp_path / "f.npy", flat), "mediapipe-holistic")
    np.testing.assert_allclose(got.xy, ref.xy)
    np.testing.assert_allclose(got.conf, ref.conf)
    flat258 = np.concatenate([pose_c.reshape(T, -1), left[..., :3].reshape(T, -1), right[..., :3].reshape(T, -1)], 1)
    np.testing.assert_allclose(read_pose(_save(tmp_path / "g.npy", flat258), "mediapipe-holistic").xy, ref.xy)


def _save(path, arr):
    np.save(path, arr)
    return path


def test_kaggle_parquet_long_format(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    arr = holistic()  # pose, face, left, right
    kinds = [("face", 33, 468), ("left_hand", 501, 21), ("pose", 0, 33), ("right_hand", 522, 21)]
    rows = {"frame": [], "row_id": [], "type": [], "landmark_index": [], "x": [], "y": [], "z": []}
    for t in range(T):
        for kind, start, n in kinds:
            for j in range(n):
                x, y, z = arr[t, start + j, :3]
                for k, v in (("frame", 20 + t), ("row_id", f"{20 + t}-{kind}-{j}"), ("type", kind), ("landmark_index", j),
                             ("x", float(x)), ("y", float(y)), ("z", float(z))):
                    rows[k].append(v)
    pq.write_table(pa.table(rows), tmp_path / "seq.parquet")
    pose = read_pose(tmp_path / "seq.parquet")
    np.testing.assert_allclose(pose.xy[:, ix["nose"]], arr[:, 0, :2], rtol=1e-5)
    np.testing.assert_allclose(pose.xy[0, ix["right_hand_wrist"]], arr[0, 522, :2], rtol=1e-5)
    assert (pose.conf[1, :42] == 0).all() and (pose.conf[0, :42] == 1).all()


def test_hand_assignment_rule():
    xy = np.zeros((4, 2, 21, 2), np.float32)
    xy[0, 0, :, 0], xy[0, 1, :, 0] = 0.7, 0.3  # both: smaller x is the right hand
    xy[1, 0, :, 0] = 0.32  # one hand near the last right wrist
    xy[2, 1, :, 0] = 0.68  # one hand near the last left wrist
    present = np.array([[1, 1], [1, 0], [0, 1], [0, 0]], bool)
    right, r_ok, left, l_ok = assign_hands(xy, present, np.full(4, 0.5))
    assert r_ok.tolist() == [True, True, False, False] and l_ok.tolist() == [True, False, True, False]
    assert right[0, 0, 0] == pytest.approx(0.3) and left[0, 0, 0] == pytest.approx(0.7)
    assert right[1, 0, 0] == pytest.approx(0.32) and left[2, 0, 0] == pytest.approx(0.68)
    first = np.zeros((1, 2, 21, 2), np.float32)
    first[0, 0, :, 0] = 0.8  # a single hand before any other: by the midline
    _, r_ok, _, l_ok = assign_hands(first, np.array([[True, False]]), np.array([0.5]))
    assert l_ok[0] and not r_ok[0]
    right_m, _, left_m, _ = assign_hands(xy, present, np.full(4, 0.5), mirrored=True)
    np.testing.assert_array_equal(right_m, left)


def test_mediapipe_hands_real_wlasl_file(wlasl_dir):
    path = sorted((wlasl_dir / "landmarks").glob("*/*.npy"))[0]
    raw = np.load(path).reshape(30, 2, 21, 3)
    pose = read_pose(path, "mediapipe-hands", ImportOptions(image_size=(640, 480)))
    assert pose.xy.shape == (30, 49, 2) and (pose.conf[:, BODY] == 0).all()
    both = (np.abs(raw).sum((2, 3)) > 0).all(1)
    t = int(np.argmax(both))
    if both.any():
        assert pose.xy[t, ix["right_hand_wrist"], 0] <= pose.xy[t, ix["left_hand_wrist"], 0]
    present = (np.abs(raw).sum((2, 3)) > 0).sum(1)
    assert ((pose.conf[:, RIGHT_HAND].max(1) > 0).astype(int) + (pose.conf[:, LEFT_HAND].max(1) > 0)).tolist() == present.tolist()


def openpose_frame(people):
    return {"version": 1.3, "people": people}


def openpose_person(seed, scale=1.0):
    rng = np.random.default_rng(seed)
    body = np.column_stack([rng.uniform(100, 500, (25, 2)), np.full(25, 0.8 * scale)])
    rh = np.column_stack([rng.uniform(200, 240, (21, 2)), np.full(21, 0.7)])
    lh = np.column_stack([rng.uniform(300, 340, (21, 2)), np.full(21, 0.6)])
    return {"pose_keypoints_2d": body.ravel().tolist(), "hand_right_keypoints_2d": rh.ravel().tolist(),
            "hand_left_keypoints_2d": lh.ravel().tolist(), "face_keypoints_2d": []}, body, rh, lh


def test_openpose_folder(tmp_path):
    clip = tmp_path / "clip1"
    clip.mkdir()
    expected = []
    for t in range(3):
        person, body, rh, lh = openpose_person(t)
        other, *_ = openpose_person(99, scale=0.5)
        people = [] if t == 1 else [other, person]
        (clip / f"clip1_{t:012d}_keypoints.json").write_text(json.dumps(openpose_frame(people)))
        expected.append((body, rh, lh))
    [src] = list(find_samples(tmp_path, "openpose", ImportOptions(image_size=(640, 480))))
    pose = src.load()
    body, rh, lh = expected[2]
    np.testing.assert_allclose(pose.xy[2, ix["nose"]], body[0, :2], rtol=1e-5)
    np.testing.assert_allclose(pose.xy[2, ix["right_shoulder"]], body[2, :2], rtol=1e-5)
    np.testing.assert_allclose(pose.xy[2, ix["left_wrist"]], body[7, :2], rtol=1e-5)
    np.testing.assert_allclose(pose.xy[2, RIGHT_HAND], rh[:, :2], rtol=1e-5)
    np.testing.assert_allclose(pose.conf[2, LEFT_HAND], 0.6, rtol=1e-5)
    assert (pose.conf[1] == 0).all()  # nobody in frame 1


def test_openpose_corrupt_frame_is_named(tmp_path):
    clip = tmp_path / "c"
    clip.mkdir()
    (clip / "c_000000000000_keypoints.json").write_text('{"people": [')
    [src] = list(find_samples(clip, "openpose"))
    with pytest.raises(PoseError, match="c_000000000000_keypoints.json"):
        src.load()


def test_all_real_pose_files_import(pose_samples):
    sources = list(find_samples(pose_samples, "pose"))
    assert len(sources) == 9
    for src in sources:
        pose = src.load()
        assert pose.num_frames > 0 and (pose.conf[:, :42] > 0).any(), src.id
    mp = read_pose(pose_samples / "src/python/tests/data/mediapipe.pose")
    assert (mp.conf[:, ix["nose"]] == 0).all()  # the reduced Holistic has no nose
    assert (mp.conf[:, ix["left_shoulder"]] > 0).any() and mp.image_size == (1250.0, 1250.0)


def test_pose_file_maps_openpose_names(pose_samples):
    from pose_format import Pose

    path = pose_samples / "src/python/tests/data/openpose.pose"
    raw = Pose.read(path.read_bytes())
    comp_start = {c.name: 0 for c in raw.header.components}
    at = 0
    for c in raw.header.components:
        comp_start[c.name] = at
        at += len(c.points)
    pose = read_pose(path)
    data = np.ma.getdata(raw.body.data)[:, 0, :, :2]
    conf = np.asarray(raw.body.confidence)[:, 0]
    rh = comp_start["hand_right_keypoints_2d"]
    seen = conf[:, rh] > 0
    np.testing.assert_allclose(pose.xy[seen, ix["right_hand_wrist"]], data[seen, rh], rtol=1e-5)
    rs = comp_start["pose_keypoints_2d"] + 2  # RShoulder
    seen = conf[:, rs] > 0
    np.testing.assert_allclose(pose.xy[seen, ix["right_shoulder"]], data[seen, rs], rtol=1e-5)


def test_generic_npz_with_layout(tmp_path):
    layout = {"joints": ["nose", None, "right_wrist", "right_hand_wrist", "right_hand_thumb_cmc"], "image_size": [100, 80]}
    (tmp_path / "layout.json").write_text(json.dumps(layout))
    kp = np.random.default_rng(0).uniform(0, 80, (6, 5, 3)).astype(np.float32)
    kp[..., 2] = 0.9
    kp[2, 3, :2] = np.nan
    data = tmp_path / "data"
    data.mkdir()
    np.savez(data / "a.npz", keypoints=kp)
    np.savez(data / "b.npz", keypoints=kp[..., :2], confidence=np.full((6, 5), 0.5, np.float32))
    sources = {s.id: s for s in find_samples(data, "npz", ImportOptions(layout=tmp_path / "layout.json"))}
    a, b = sources["a"].load(), sources["b"].load()
    np.testing.assert_allclose(a.xy[:, ix["right_wrist"]], kp[:, 2, :2])
    assert a.conf[0, ix["nose"]] == pytest.approx(0.9) and (a.conf[:, ix["left_wrist"]] == 0).all()
    assert a.conf[2, ix["right_hand_wrist"]] == 0 and a.image_size == (100.0, 80.0)
    assert b.conf[0, ix["right_hand_thumb_cmc"]] == pytest.approx(0.5)


def test_layout_errors_are_clear(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"joints": ["nose", "elbow"]}))
    with pytest.raises(ValueError, match="'elbow'"):
        read_layout(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="layout"):
        list(find_samples(tmp_path, "npz"))


def test_the_format_is_guessed_from_the_importers_own_names(tmp_path):
    from masa.poses import FORMATS, guess_format

    for name, fmt in (("a.pose", "pose"), ("a.parquet", "mediapipe-holistic"), ("a.json", "coco-wholebody"),
                      ("a.pkl", "coco-wholebody"), ("clip_000000000001_keypoints.json", "openpose")):
        assert guess_format(tmp_path / name) == fmt
        assert any(name.endswith(s) for s in FORMATS[fmt].suffixes)  # and that format reads it
    folder = tmp_path / "frames"
    for i in range(3):
        write_json(folder / f"clip_{i:012d}_keypoints.json", {"people": []})
    assert guess_format(folder) == "openpose"
    for name in ("a.npy", "a.npz"):  # several formats read arrays: the user must say which
        with pytest.raises(ValueError, match="give --format"):
            guess_format(tmp_path / name)
