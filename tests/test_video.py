"""From video to glosses: extraction with MediaPipe Holistic on the three real sign videos in
../shared/data/sign-videos, bad videos, resuming, import, prediction, streaming and pictures.
The tests skip, saying why, where the data or the `masa[video]` extra is absent."""
import json
import os

import numpy as np
import pytest

from masa.cli import main
from tests.conftest import SHARED_DATA, need

VIDEOS = SHARED_DATA / "sign-videos"
# From sign-videos/SOURCE.md: frames, and the share of frames with the pose, left and right hand found.
EXPECTED = {"SOUP": (41, 1.00, 0.98, 0.85), "test_video": (58, 1.00, 0.00, 0.34), "video": (9, 1.00, 1.00, 1.00)}


@pytest.fixture(scope="module")
def videos():
    pytest.importorskip("mediapipe", reason="the masa[video] extra (MediaPipe) is not installed")
    return need(VIDEOS)


@pytest.fixture(scope="module")
def extracted(videos, tmp_path_factory):
    """The three real videos and three bad ones, extracted in two processes by the CLI."""
    root = tmp_path_factory.mktemp("video")
    src = root / "videos"
    src.mkdir()
    for name in EXPECTED:
        os.symlink(videos / f"{name}.mp4", src / f"{name}.mp4")
    (src / "empty.mp4").write_bytes(b"")
    (src / "notes.mp4").write_text("not a video\n")
    (src / "broken.mp4").write_bytes((videos / "SOUP.mp4").read_bytes()[:30000])  # cut short: no index
    out = root / "poses"
    return src, out, main(["extract", str(src), "--out", str(out), "--workers", "2", "--quiet"])


def read(path):
    from pose_format import Pose

    return Pose.read(path.read_bytes())


def shares(pose):
    """Share of frames where the pose, the left hand and the right hand were found."""
    conf = np.asarray(pose.body.confidence)[:, 0]
    names = [c.name for c in pose.header.components]
    sizes = [len(c.points) for c in pose.header.components]
    start = dict(zip(names, np.cumsum([0] + sizes[:-1])))
    found = lambda comp, n: float((conf[:, start[comp]:start[comp] + n] > 0).any(1).mean())  # noqa: E731
    return found("POSE_LANDMARKS", 33), found("LEFT_HAND_LANDMARKS", 21), found("RIGHT_HAND_LANDMARKS", 21)


def test_extraction_matches_the_measured_frames_and_detection_rates(extracted, capsys):
    src, out, code = extracted
    assert code == 0
    assert sorted(p.name for p in out.iterdir()) == ["SOUP.pose", "test_video.pose", "video.pose"]
    for name, (frames, pose_rate, left, right) in EXPECTED.items():
        pose = read(out / f"{name}.pose")
        assert pose.body.data.shape[:2] == (frames, 1), name
        assert pose.header.dimensions.width > 0 and pose.body.fps > 0
        assert shares(pose) == pytest.approx((pose_rate, left, right), abs=0.1), name


def test_bad_videos_get_an_error_line_and_the_others_go_on(videos, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.mp4").write_bytes(b"")
    (bad / "notes.mp4").write_text("not a video\n")
    (bad / "broken.mp4").write_bytes((videos / "SOUP.mp4").read_bytes()[:30000])
    os.symlink(videos / "video.mp4", bad / "good.mp4")
    assert main(["extract", str(bad), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "empty.mp4: the file is empty" in err
    assert "notes.mp4: OpenCV cannot open it as a video" in err and "broken.mp4: OpenCV cannot open" in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["good.pose"]
    assert main(["extract", str(bad / "empty.mp4"), "--out", str(tmp_path / "out"), "--quiet"]) == 1  # nothing done


def test_existing_poses_are_skipped_unless_overwrite(extracted, capsys):
    src, out, _ = extracted
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    assert main(["extract", str(src / "video.mp4"), str(src / "SOUP.mp4"), "--out", str(out), "--quiet"]) == 0
    assert "skipped 2 already there" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    parallel = read(out / "video.pose")
    assert main(["extract", str(src / "video.mp4"), "--out", str(out), "--overwrite", "--quiet"]) == 0
    assert (out / "video.pose").stat().st_mtime_ns != before["video.pose"]
    again = read(out / "video.pose")  # one process now, two before: the same poses
    np.testing.assert_allclose(np.asarray(again.body.data), np.asarray(parallel.body.data), atol=1e-3)
    assert not list(out.glob(".*tmp"))


def test_pose_files_round_trip_through_import_and_video_imports_directly(extracted, tmp_path, capsys):
    from masa.data.store import PoseStore
    from masa.poses import read_pose

    src, out, _ = extracted
    assert main(["data", "import", str(out), "--format", "pose", "--out", str(tmp_path / "a"), "--quiet"]) == 0
    store = PoseStore(tmp_path / "a")
    assert sorted(store.ids) == sorted(EXPECTED)
    assert main(["data", "import", str(src / "video.mp4"), "--format", "video", "--out", str(tmp_path / "b"), "--quiet"]) == 0
    direct = PoseStore(tmp_path / "b")
    np.testing.assert_allclose(direct[0][0], store[store.ids.index("video")][0], atol=1e-2)
    sign = read_pose(out / "SOUP.pose")
    assert sign.xy.shape == (41, 49, 2) and sign.image_size == (320, 240)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """An untrained released classifier: prediction only has to be the same whichever the input."""
    import torch

    from masa import release
    from masa.config import resolve
    from masa.model.registry import build_classifier

    torch.manual_seed(0)
    cfg = resolve(["tiny"])
    path = tmp_path_factory.mktemp("model") / "release"
    release.save(path, build_classifier(cfg.model, 4), cfg, ["soup", "hello", "thanks", "book"])
    return path


def test_predict_on_a_video_equals_predict_on_its_pose_file(extracted, model, capsys):
    from masa.predict import predict_files

    src, out, _ = extracted
    got = predict_files(model, [src / "SOUP.mp4", out / "SOUP.pose", src / "notes.mp4"])
    assert [g["gloss"] for g in got[0]["top"]] == [g["gloss"] for g in got[1]["top"]]
    assert [g["probability"] for g in got[0]["top"]] == pytest.approx([g["probability"] for g in got[1]["top"]], abs=1e-5)
    assert "OpenCV cannot open it" in got[2]["error"]
    assert main(["predict", "--checkpoint", str(model), str(src / "SOUP.mp4")]) == 0
    assert capsys.readouterr().out.startswith(f"{src / 'SOUP.mp4'}: ")


def test_stream_over_a_video_standing_in_for_the_camera(extracted, model, tmp_path, capsys):
    src, _, _ = extracted
    out = tmp_path / "live.json"
    assert main(["predict", "--checkpoint", str(model), "--camera", str(src / "test_video.mp4"),
                 "--window", "16", "--stride", "8", "--out", str(out)]) == 0
    windows = json.loads(out.read_text())["windows"]
    assert [w["frames"] for w in windows] == [[s, s + 16] for s in range(0, 58 - 16 + 1, 8)]
    assert all(w["end"] > w["start"] for w in windows) and windows[1]["start"] == pytest.approx(8 / 29.97, abs=0.05)
    assert all(len(w["top"]) == 4 or "no frame in which a hand" in w["error"] for w in windows)
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(windows) and " s  " in printed[0]
    short = tmp_path / "short.json"  # shorter than one window: one prediction over all of it
    assert main(["predict", "--checkpoint", str(model), "--stream", str(src / "video.mp4"), "--window", "32",
                 "--out", str(short), "--json"]) == 0
    assert [w["frames"] for w in json.loads(short.read_text())["windows"]] == [[0, 9]]


def test_show_draws_the_skeleton_over_the_video(extracted, tmp_path, capsys):
    import cv2
    from PIL import Image

    src, _, _ = extracted
    assert main(["show", str(src / "video.mp4"), "--out", str(tmp_path / "v.gif")]) == 0
    assert Image.open(tmp_path / "v.gif").n_frames == 9
    assert main(["show", str(src / "video.mp4"), "--out", str(tmp_path / "v.mp4")]) == 0
    cap = cv2.VideoCapture(str(tmp_path / "v.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 9 and int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 1280
    assert main(["show", str(src / "video.mp4"), "--out", str(tmp_path / "v.avi")]) == 1
    assert "written as .gif or .mp4" in capsys.readouterr().err


def test_a_missing_video_extra_names_what_to_install(monkeypatch, tmp_path, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in ("mediapipe", "cv2") else real(name, *a))
    (tmp_path / "a.mp4").write_bytes(b"x")
    assert main(["extract", str(tmp_path / "a.mp4"), "--out", str(tmp_path / "out"), "--quiet"]) == 1
    assert "pip install 'masa[video]'" in capsys.readouterr().err
