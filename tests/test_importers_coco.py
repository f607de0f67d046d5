"""COCO-WholeBody importers on spec-exact files (MMPose JSON, pickles of spec §2.7, rtmlib arrays)."""
import json
import os
import pickle

import numpy as np
import pytest

from masa.poses import PoseError, find_samples, read_pose
from masa.poses.safe_pickle import UnsafePickleError, safe_load
from masa.skeleton import JOINT_INDEX

T = 4


def wholebody(t=T, seed=0):
    """(t, 133, 2) keypoints whose right/left hands and body sit at known places."""
    rng = np.random.default_rng(seed)
    kp = rng.uniform(50, 600, (t, 133, 2)).astype(np.float32)
    kp[:, 112:133] = 300 + rng.uniform(-20, 20, (t, 21, 2))  # right hand
    kp[:, 91:112] = 400 + rng.uniform(-20, 20, (t, 21, 2))  # left hand
    score = rng.uniform(0.5, 1.0, (t, 133)).astype(np.float32)
    return kp, score


def check_mapping(pose, kp, score):
    ix = JOINT_INDEX
    np.testing.assert_allclose(pose.xy[:, ix["right_hand_wrist"]], kp[:, 112], rtol=1e-6)
    np.testing.assert_allclose(pose.xy[:, ix["left_hand_little_tip"]], kp[:, 111], rtol=1e-6)
    np.testing.assert_allclose(pose.xy[:, ix["right_elbow"]], kp[:, 8], rtol=1e-6)
    np.testing.assert_allclose(pose.xy[:, ix["left_wrist"]], kp[:, 9], rtol=1e-6)
    np.testing.assert_allclose(pose.conf[:, ix["nose"]], score[:, 0], rtol=1e-6)


def test_mmpose_1x_prediction_json_picks_the_confident_person(tmp_path):
    kp, score = wholebody()
    other = kp + 5
    frames = [{"frame_id": t + 1, "instances": [
        {"keypoints": other[t].tolist(), "keypoint_scores": (score[t] * 0.5).tolist(), "bbox": [[0, 0, 10, 10]]},
        {"keypoints": kp[t].tolist(), "keypoint_scores": score[t].tolist(), "bbox": [[0, 0, 9, 9]]},
    ]} for t in range(T)]
    path = tmp_path / "video.json"
    path.write_text(json.dumps({"meta_info": {"dataset_name": "coco_wholebody"}, "instance_info": frames[::-1]}))
    pose = read_pose(path, "mmpose")
    check_mapping(pose, kp, score)


def test_mmpose_inferencer_frame_list_and_coco_results(tmp_path):
    kp, score = wholebody()
    frames = [{"frame_id": t, "instances": [{"keypoints": kp[t].tolist(), "keypoint_scores": score[t].tolist()}]} for t in range(T)]
    (tmp_path / "a.json").write_text(json.dumps(frames))
    check_mapping(read_pose(tmp_path / "a.json", "coco-wholebody"), kp, score)
    flat = [{"image_id": t, "category_id": 1, "score": 1.0,
             "keypoints": np.concatenate([kp[t], score[t, :, None]], 1).reshape(-1).tolist()} for t in range(T)]
    (tmp_path / "b.json").write_text(json.dumps(flat))
    check_mapping(read_pose(tmp_path / "b.json", "coco-wholebody"), kp, score)


def test_folder_of_per_frame_json(tmp_path):
    kp, score = wholebody()
    folder = tmp_path / "clip"
    folder.mkdir()
    for t in range(T):  # frame_10 must come after frame_9 (numeric order)
        (folder / f"frame_{t * 3 + 1}.json").write_text(json.dumps([{"keypoints": kp[t].tolist(), "keypoint_scores": score[t].tolist()}]))
    [src] = list(find_samples(tmp_path, "rtmpose"))
    assert src.id == "clip"
    check_mapping(src.load(), kp, score)


def test_per_video_pickle_orders_frames_by_number(tmp_path):
    kp, score = wholebody()
    arr = np.concatenate([kp, score[..., None]], -1)
    names = [f"img_{i:05d}.jpg" for i in (3, 1, 10, 2)]  # stored out of order
    order = np.argsort([3, 1, 10, 2])
    path = tmp_path / "vid.pkl"
    path.write_bytes(pickle.dumps({"keypoints": arr, "img_list": names}))
    pose = read_pose(path)
    check_mapping(pose, kp[order], score[order])


def test_cache_pickle_holds_many_videos_with_image_size(tmp_path):
    kp, score = wholebody()
    arr = np.concatenate([kp, score[..., None]], -1)
    cache = {f"v{i}": {"video_name": f"v{i}", "video_data": {"keypoints": arr, "img_list": [f"x_{t}.jpg" for t in range(T)]},
                       "label": i, "img_size": np.array([[1280, 720]])} for i in range(3)}
    (tmp_path / "WLASL_train.pkl").write_bytes(pickle.dumps(cache))
    sources = list(find_samples(tmp_path, "coco-wholebody"))
    assert [s.id for s in sources] == ["v0", "v1", "v2"]
    pose = sources[1].load()
    assert pose.image_size == (1280.0, 720.0)
    check_mapping(pose, kp, score)


def test_rtmlib_arrays_with_several_people(tmp_path):
    kp, score = wholebody()
    people = np.stack([kp + 1, kp], 1)
    scores = np.stack([score * 0.3, score], 1)
    np.savez(tmp_path / "s.npz", keypoints=people, scores=scores)
    pose = read_pose(tmp_path / "s.npz", "dwpose")
    check_mapping(pose, kp, score)
    assert pose.meta.get("image_size_estimated")


def test_wrong_keypoint_count_is_named(tmp_path):
    np.savez(tmp_path / "s.npz", keypoints=np.zeros((3, 17, 2)), scores=np.ones((3, 17)))
    with pytest.raises(PoseError, match="133"):
        read_pose(tmp_path / "s.npz", "coco-wholebody")


class Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"keypoints": Exploit(marker)})
    with pytest.raises(UnsafePickleError, match="refused"):
        safe_load(payload)
    (tmp_path / "evil.pkl").write_bytes(payload)
    [src] = list(find_samples(tmp_path, "mmpose"))
    with pytest.raises(PoseError, match="refused"):
        src.load()
    assert not marker.exists()


def test_safe_load_reads_plain_numpy_pickles():
    data = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": [1, (2, 3)], "c": np.float64(2.5)}
    for protocol in (2, 4, 5):
        back = safe_load(pickle.dumps(data, protocol=protocol))
        np.testing.assert_array_equal(back["a"], data["a"])
        assert back["b"] == [1, (2, 3)] and back["c"] == 2.5
