"""A long import never dies on one bad sample, names each one, and never leaves half a store."""
import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from masa.cli import main
from masa.config import NormaliseConfig
from masa.data.ingest import ImportFailed, import_samples
from masa.data.store import PoseStore
from masa.poses.source import SampleSource


def good_keypoints(t=6, seed=0):
    rng = np.random.default_rng(seed)
    kp = rng.uniform(100, 500, (t, 133, 2)).astype(np.float32)
    kp[:, 91:133] = 300 + rng.uniform(-30, 30, (t, 42, 2))
    return kp, np.full((t, 133), 0.9, np.float32)


@pytest.fixture
def messy(tmp_path):
    src = tmp_path / "poses"
    src.mkdir()
    kp, sc = good_keypoints()
    frames = [{"frame_id": t, "instances": [{"keypoints": kp[t].tolist(), "keypoint_scores": sc[t].tolist()}]} for t in range(6)]
    text = json.dumps({"instance_info": frames})
    (src / "good.json").write_text(text)
    (src / "good2.json").write_text(text)
    (src / "truncated.json").write_text(text[: len(text) // 2])
    (src / "truncated.pkl").write_bytes(pickle.dumps({"keypoints": np.concatenate([kp, sc[..., None]], -1)})[:300])
    bad = kp.copy()
    bad[2, 100] = np.nan
    np.savez(src / "nan.npz", keypoints=bad, scores=sc)
    inf = kp.copy()
    inf[1, 0] = np.inf
    np.savez(src / "inf.npz", keypoints=inf, scores=sc)
    np.savez(src / "shape.npz", keypoints=np.zeros((6, 17, 2)), scores=np.ones((6, 17)))
    np.savez(src / "empty.npz", keypoints=np.zeros((0, 133, 2)), scores=np.zeros((0, 133)))
    np.savez(src / "zeroconf.npz", keypoints=kp, scores=np.zeros_like(sc))
    weak_body_only = np.where(np.arange(133) < 23, 0.5, 0.0) * np.ones_like(sc)  # too weak for the arm fallback
    np.savez(src / "nohands.npz", keypoints=kp, scores=weak_body_only)
    np.savez(src / "good2.npz", keypoints=kp, scores=sc)  # same id as good2.json
    np.savez(src / "stranger.npz", keypoints=kp, scores=sc)  # a label no class list knows
    np.savez(src / "unlisted.npz", keypoints=kp, scores=sc)
    names = ["good", "good2", "truncated", "nan", "inf", "shape", "empty", "zeroconf", "nohands"]
    rows = [f"{n},hello,train" for n in names] + ["stranger,zebra,train"]
    (tmp_path / "labels.csv").write_text("file,label,split\n" + "\n".join(rows) + "\n")
    (tmp_path / "classes.txt").write_text("hello\nbye\n")
    return tmp_path


EXPECTED = {
    "truncated": "corrupt or truncated JSON",
    "nan": "non-finite",
    "inf": "non-finite",
    "shape": "133",
    "empty": "zero frames",
    "zeroconf": "all-zero confidence",
    "nohands": "no frame in which a hand",
    "good2": "duplicate sample id",
    "stranger": "unknown label 'zebra'",
    "unlisted": "not listed",
}


def test_bad_samples_are_skipped_and_reported(messy, capsys):
    out = messy / "store"
    code = main(["data", "import", str(messy / "poses"), "--format", "mmpose", "--out", str(out), "--quiet",
                 "--labels", str(messy / "labels.csv"), "--class-list", str(messy / "classes.txt"), "--image-size", "640x480"])
    assert code == 0
    store = PoseStore(out)
    assert sorted(store.ids) == ["good", "good2"]
    report = json.loads((out / "import_report.json").read_text())
    reasons = {(Path(s["source"]).name, s["id"]): s["reason"] for s in report["skipped"]}
    printed = capsys.readouterr().out
    for sample, pattern in EXPECTED.items():
        hits = [(src, r) for (src, sid), r in reasons.items() if sid == sample]
        assert hits, f"{sample} was not reported"
        assert any(re.search(pattern, r) for _, r in hits), (sample, hits)
        assert any(f"sample {sample}:" in line for line in printed.splitlines())
    assert ("truncated.pkl", "truncated") in reasons and "cannot read pickle" in reasons[("truncated.pkl", "truncated")]
    assert ("good2.npz", "good2") in reasons  # the second file with that id is the one skipped


def test_strict_import_fails_and_writes_nothing(messy, capsys):
    out = messy / "store"
    code = main(["data", "import", str(messy / "poses"), "--format", "mmpose", "--out", str(out), "--quiet", "--strict"])
    assert code == 1
    err = capsys.readouterr().err
    assert "strict" in err and "sample" in err and "poses/" in err
    assert not out.exists() and not [p for p in messy.iterdir() if p.name.startswith(".store")]


def test_interrupted_import_leaves_no_store(tmp_path):
    def boom():
        raise KeyboardInterrupt

    sources = [SampleSource("x", tmp_path / "x", boom)]
    with pytest.raises(KeyboardInterrupt):
        import_samples(sources, tmp_path / "st", NormaliseConfig(), progress=False)
    assert list(tmp_path.iterdir()) == []


def test_strict_raises_import_failed(tmp_path):
    def bad():
        raise ValueError("broken on purpose")

    with pytest.raises(ImportFailed, match="broken on purpose"):
        import_samples([SampleSource("x", tmp_path / "x.json", bad)], tmp_path / "st", NormaliseConfig(), strict=True, progress=False)
    assert not (tmp_path / "st").exists()
