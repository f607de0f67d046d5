"""Bad input and faults (issue 11): every user error is one line naming the file, sample or
setting, exit 1, nothing silent, and nothing of the user's lost."""
import dataclasses
import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest

from masa.cli import main
from masa.data.store import PoseStore
from tests.conftest import write_synth_store


def holistic(t=8, seed=0, hands=True):
    """A MediaPipe Holistic array (T, 543, 3) in normalised image units: pose, face, left, right."""
    rng = np.random.default_rng(seed)
    arr = rng.uniform(0.3, 0.7, (t, 543, 3)).astype(np.float32)
    if not hands:
        arr[:, 501:] = np.nan
    return arr


def import_cmd(src, out, *extra):
    return ["data", "import", str(src), "--format", "mediapipe-holistic", "--out", str(out), "--quiet", *extra]


@pytest.fixture
def poses(tmp_path):
    src = tmp_path / "poses"
    (src / "book").mkdir(parents=True)
    for i in range(3):
        np.save(src / "book" / f"b{i}.npy", holistic(seed=i))
    return src


def err_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert err and "Traceback" not in "\n".join(err)
    return err[-1]


# --- lost data ------------------------------------------------------------------------------
def test_overwrite_replaces_only_a_store(poses, tmp_path, capsys):
    mine = tmp_path / "my-files"
    mine.mkdir()
    (mine / "thesis.tex").write_text("years of work")
    assert main(import_cmd(poses, mine, "--overwrite")) == 1
    assert "not a masa pose store" in err_line(capsys)
    assert (mine / "thesis.tex").read_text() == "years of work"
    store = tmp_path / "store"
    assert main(import_cmd(poses, store)) == 0
    assert main(import_cmd(poses, store, "--overwrite")) == 0  # a store may be replaced
    assert len(PoseStore(store)) == 3


@pytest.mark.parametrize("where", ["same", "inside", "around"])
def test_out_may_not_be_the_source_or_inside_it(poses, capsys, where):
    out = {"same": poses, "inside": poses / "book" / "store", "around": poses.parent}[where]
    before = sorted(p.name for p in poses.rglob("*"))
    assert main(import_cmd(poses, out, "--overwrite")) == 1
    assert "the source" in err_line(capsys)
    assert sorted(p.name for p in poses.rglob("*")) == before


def test_a_file_name_that_is_not_utf8_is_one_skipped_sample(poses, tmp_path, capsys):
    bad = os.fsdecode(bytes(poses / "book") + b"/bad\xff.npy")
    np.save(bad, holistic(seed=9))
    store = tmp_path / "store"
    assert main(import_cmd(poses, store)) == 0
    out = capsys.readouterr().out
    assert "bad\\xff" in out and "not valid UTF-8" in out
    assert len(PoseStore(store)) == 3  # the good samples of that folder are kept
    assert "bad\\xff" in json.loads((store / "import_report.json").read_text())["skipped"][0]["source"]


# --- label files ------------------------------------------------------------------------------
@pytest.mark.parametrize("name, content, expect", [
    ("labels.csv", "file,label,split\nbook/b0,book,holidays\n", "split 'holidays'"),
    ("labels.csv", "file,label\nbook/b0\n", "row 2 has 1 column"),
    ("labels.csv", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\xfa", "not a text file"),
    ("nslt_100.json", '{"b0": {"subset": "train", "action": [0, 1', "not valid JSON"),
    ("nslt_100.json", '{"b0": {"subset": "train"}}', "missing field 'action'"),
    ("WLASL_v0.3.json", '[{"gloss": "book"}]', "missing field 'instances'"),
    ("missing.csv", None, "does not exist"),
    ("labels.csv", "file,label\nbook/b0,book\nbook/b0,read\n", "rows 2 and 3 both list 'book/b0'"),
])
def test_label_file_errors_are_one_line_naming_the_file(poses, tmp_path, capsys, name, content, expect):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    assert main(import_cmd(poses, tmp_path / "store", "--labels", str(path))) == 1
    line = err_line(capsys)
    assert str(path) in line and expect in line
    assert not (tmp_path / "store").exists()


def test_a_byte_order_mark_is_not_a_class(poses, tmp_path, capsys):
    (tmp_path / "labels.csv").write_bytes("\ufefffile,label\nbook/b0,book\nbook/b1,read\nbook/b2,book\n".encode())
    assert main(import_cmd(poses, tmp_path / "store", "--labels", str(tmp_path / "labels.csv"))) == 0
    assert PoseStore(tmp_path / "store").classes == ["book", "read"]


def test_same_file_name_in_two_folders_is_ambiguous_not_silently_shared(poses, tmp_path, capsys):
    (poses / "drink").mkdir()
    np.save(poses / "drink" / "b0.npy", holistic(seed=5))
    (tmp_path / "labels.csv").write_text("file,label\nb0,book\nb1,book\nb2,book\n")
    assert main(import_cmd(poses, tmp_path / "store", "--labels", str(tmp_path / "labels.csv"))) == 0
    out = capsys.readouterr().out
    assert out.count("ambiguous") == 2 and "book/b0" in out and "drink/b0" in out
    assert sorted(PoseStore(tmp_path / "store").ids) == ["book/b1", "book/b2"]
    # with paths in the label file, both are labelled
    (tmp_path / "labels.csv").write_text("file,label\nbook/b0,book\ndrink/b0,drink\nbook/b1,book\nbook/b2,book\n")
    assert main(import_cmd(poses, tmp_path / "store2", "--labels", str(tmp_path / "labels.csv"))) == 0
    store = PoseStore(tmp_path / "store2")
    assert store.classes[store.labels[store.find("drink/b0")]] == "drink"


# --- importing nothing ------------------------------------------------------------------------
def test_importing_nothing_is_an_error_that_says_why(poses, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(import_cmd(empty, tmp_path / "s1")) == 1
    assert "found no mediapipe-holistic files" in err_line(capsys)
    assert main(["data", "import", str(poses), "--format", "pose", "--out", str(tmp_path / "s2"), "--quiet"]) == 1
    assert "found no pose files (it holds 3 .npy)" in err_line(capsys)
    (tmp_path / "labels.csv").write_text("file,label\nvideo_001,book\nvideo_002,read\n")
    assert main(import_cmd(poses, tmp_path / "s3", "--labels", str(tmp_path / "labels.csv"))) == 1
    line = err_line(capsys)
    assert "0 of 3 samples matched" in line and "'video_001'" in line and "'book/b0'" in line
    for s in ("s1", "s2", "s3"):
        assert not (tmp_path / s).exists()
    assert not list(tmp_path.glob(".s*"))  # no temporary store left behind


# --- silent values ----------------------------------------------------------------------------
def test_absurd_coordinates_are_rejected(poses, tmp_path, capsys):
    arr = holistic(seed=7)
    arr[3, 505, 0] = 1e30  # a left-hand joint
    np.save(poses / "book" / "absurd.npy", arr)
    assert main(import_cmd(poses, tmp_path / "store")) == 0
    out = capsys.readouterr().out
    assert "book/absurd" in out and "far outside" in out
    assert len(PoseStore(tmp_path / "store")) == 3


def test_a_stray_value_does_not_set_an_estimated_image_size():
    from masa.poses.source import ImportOptions, build

    xy = np.random.default_rng(0).uniform(100, 600, (5, 49, 2)).astype(np.float32)
    conf = np.ones((5, 49), np.float32)
    assert build(xy, conf, ImportOptions()).image_size[0] < 700
    xy[2, 3] = 1e30
    with pytest.raises(ValueError, match="far outside"):
        build(xy, conf, ImportOptions())


def test_mediapipe_hands_nan_joint_is_missing_not_at_origin():
    from masa.poses.mediapipe import _hands_only
    from masa.poses.source import ImportOptions

    arr = np.random.default_rng(0).uniform(0.2, 0.4, (3, 2, 21, 3)).astype(np.float32)
    arr[:, 1] = 0  # second slot empty
    arr[1, 0, 7, :2] = np.nan
    xy, conf = _hands_only(arr, ImportOptions())
    hand = conf[:, :42].reshape(3, 2, 21).max(axis=1)  # whichever side the hand was given
    assert hand[1, 7] == 0 and hand[0, 7] == 1 and hand[1, 6] == 1
    assert np.isfinite(xy).all()


def test_import_counts_handless_single_frame_and_outside_image_samples(tmp_path, capsys):
    src = tmp_path / "poses"
    src.mkdir()
    for i in range(3):
        np.save(src / f"nohand{i}.npy", holistic(seed=i, hands=False))
    np.save(src / "one.npy", holistic(t=1))
    wide = holistic(seed=4)
    wide[:, :, 0] *= 1.8  # keypoints up to x = 1.26 of the image width
    np.save(src / "wide.npy", wide)
    store = tmp_path / "store"
    assert main(import_cmd(src, store, "--set", "normalise.arm_conf_threshold=0.0")) == 0
    out = capsys.readouterr().out
    report = json.loads((store / "import_report.json").read_text())
    assert report["no_hand_detected"] == 3 and report["single_frame"] == 1 and report["outside_image"] == 1
    assert "warning: 3 of 5 samples have no detected hand" in out
    assert "1 samples have a single frame" in out and "outside their image" in out


# --- disk full --------------------------------------------------------------------------------
def test_disk_full_during_import_is_one_line_and_leaves_nothing(poses, tmp_path, capsys, monkeypatch):
    from masa.data import store as store_mod

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.tmp / "frames.f32"))

    monkeypatch.setattr(store_mod.StoreWriter, "add", full)
    assert main(import_cmd(poses, tmp_path / "store")) == 1
    assert "no space left on device" in err_line(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["poses"]  # no .store.* folder


# --- settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize("setting, expect", [
    ("finetune.batch_size=0", "finetune.batch_size=0 is out of range: it must be at least 1"),
    ("finetune.num_frames=0", "at least 1"),
    ("normalise.max_frames=0", "at least 1"),
    ("pretrain.epochs=-1", "pretrain.epochs=-1 is out of range"),
    ("augment.crop=0", "above 0 and at most 1"),
    ("pretext.mask_ratio=1.5", "below 1"),
    ("pretrain.dropout=1", "pretrain.dropout=1.0 is out of range"),
    ("finetune.optimizer=adam", "choose one of sgd | adamw"),
])
def test_settings_out_of_range_are_refused_at_config_time(tmp_path, capsys, setting, expect):
    with pytest.raises(SystemExit) as stop:
        main(["finetune", "--data", str(tmp_path), "--init", "none", "--out", str(tmp_path / "run"), "--set", setting])
    assert expect in str(stop.value)
    assert not (tmp_path / "run").exists()


def test_every_preset_is_within_the_allowed_ranges():
    from masa import config
    from masa.config_limits import ALLOWED

    for name in config.PRESETS:
        config.resolve([name])
    cfg = config.Config()
    fields = {f"{s.name}.{f.name}" for s in dataclasses.fields(cfg) for f in dataclasses.fields(getattr(cfg, s.name))}
    assert set(ALLOWED) <= fields  # no rule for a setting that does not exist


# --- damaged stores ---------------------------------------------------------------------------
def damage(store: Path, how: str):
    index = store / "index.csv"
    if how == "truncated index":
        text = index.read_text()
        index.write_text(text[: text.rindex(",") - 3])
    elif how == "offset out of range":
        lines = index.read_text().splitlines()
        cells = lines[-1].split(",")
        cells[1] = "999999"
        index.write_text("\n".join(lines[:-1] + [",".join(cells)]) + "\n")
    elif how == "deleted frames":
        (store / "frames.f32").unlink()
    elif how == "short frames":
        with open(store / "frames.f32", "r+b") as f:
            f.truncate(f.seek(0, 2) - 4 * 49 * 3)
    elif how == "changed frames":
        with open(store / "frames.f32", "r+b") as f:
            f.write(b"\x00" * 16)


DAMAGE = [("truncated index", "index.csv"), ("offset out of range", ""), ("deleted frames", "frames.f32"),
          ("short frames", ""), ("changed frames", "checksum")]


# a same-size change of the frames is what only the checksum can see: no case without it
@pytest.mark.parametrize("how, expect, checksummed", [(*d, True) for d in DAMAGE]
                         + [(*d, False) for d in DAMAGE if d[0] != "changed frames"])
def test_a_damaged_store_is_named_on_opening(poses, tmp_path, capsys, how, expect, checksummed):
    store = tmp_path / "store"
    assert main(import_cmd(poses, store)) == 0
    if not checksummed:
        meta = json.loads((store / "meta.json").read_text())
        del meta["checksum"]
        (store / "meta.json").write_text(json.dumps(meta))
    damage(store, how)
    assert main(["data", "info", str(store)]) == 1
    line = err_line(capsys)
    assert f"{store}: damaged store" in line and "import it again" in line and expect in line


# --- checkpoints and training -----------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_store(tmp_path_factory):
    return write_synth_store(tmp_path_factory.mktemp("synth") / "store",
                             ["synth.num_classes=4", "synth.num_signers=3", "synth.val_signers=1",
                              "synth.test_signers=1", "synth.min_frames=20", "synth.max_frames=30"])


PRETRAIN = ["--preset", "tiny", "--quiet", "--set", "pretrain.batch_size=4", "--set", "pretrain.queue_size=8",
            "--set", "pretrain.warmup_epochs=0", "--set", "pretrain.log_every=1"]
FINETUNE = ["--preset", "tiny", "--quiet", "--set", "finetune.batch_size=4", "--set", "finetune.num_frames=8",
            "--set", "finetune.num_workers=0"]


def cut_short(path: Path):
    with open(path, "r+b") as f:
        f.truncate(f.seek(0, 2) // 2)


def metric_steps(run: Path, key: str):
    return [json.loads(line)[key] for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_resume_from_a_cut_short_checkpoint_falls_back_and_says_so(synth_store, tmp_path, capsys, caplog):
    run = tmp_path / "pre"
    assert main(["pretrain", "--data", str(synth_store), "--out", str(run), *PRETRAIN, "--set", "pretrain.epochs=2"]) == 0
    steps_per_epoch = metric_steps(run, "step")[-1] // 2
    cut_short(run / "checkpoints" / "last.pt")  # killed while the disk was writing it
    assert main(["pretrain", "--data", str(synth_store), "--out", str(run), *PRETRAIN, "--set", "pretrain.epochs=3",
                 "--resume"]) == 0
    assert "damaged or cut-short checkpoint" in caplog.text and "last.previous.pt" in caplog.text
    # resumed after epoch 1 (the previous checkpoint): epoch 2's lines are replaced, never repeated
    steps = metric_steps(run, "step")
    assert steps == list(range(1, 3 * steps_per_epoch + 1))


def test_finetune_resume_truncates_metrics_to_the_checkpoint(synth_store, tmp_path):
    run = tmp_path / "fin"
    assert main(["finetune", "--data", str(synth_store), "--init", "none", "--out", str(run), *FINETUNE,
                 "--set", "finetune.epochs=2"]) == 0
    with open(run / "metrics.jsonl", "a") as f:  # a line written after the last checkpoint, then killed
        f.write(json.dumps({"epoch": 2, "loss": 1.0}) + "\n")
    assert main(["finetune", "--data", str(synth_store), "--init", "none", "--out", str(run), *FINETUNE,
                 "--set", "finetune.epochs=3", "--resume"]) == 0
    assert metric_steps(run, "epoch") == [0, 1, 2]


def test_cut_short_checkpoints_and_releases_are_one_line(synth_store, tmp_path, capsys):
    pre = tmp_path / "pre"
    assert main(["pretrain", "--data", str(synth_store), "--out", str(pre), *PRETRAIN, "--set", "pretrain.epochs=1"]) == 0
    cut_short(pre / "checkpoints" / "last.pt")
    assert main(["finetune", "--data", str(synth_store), "--init", str(pre), "--out", str(tmp_path / "f1"), *FINETUNE]) == 1
    assert "last.pt: damaged or cut-short checkpoint" in err_line(capsys)
    fin = tmp_path / "fin"
    assert main(["finetune", "--data", str(synth_store), "--init", "none", "--out", str(fin), *FINETUNE,
                 "--set", "finetune.epochs=1"]) == 0
    release = fin / "release"
    good = (release / "model.safetensors").read_bytes()
    cut_short(release / "model.safetensors")
    assert main(["evaluate", "--checkpoint", str(release), "--data", str(synth_store), "--out", str(tmp_path / "ev")]) == 1
    assert "model.safetensors is damaged or cut short" in err_line(capsys)
    # weights of another model size under this config.json: refused, not a size-mismatch traceback
    (release / "model.safetensors").write_bytes(good)
    cfg = json.loads((release / "config.json").read_text())
    cfg["model"]["size"] = "small"
    (release / "config.json").write_text(json.dumps(cfg))
    assert main(["evaluate", "--checkpoint", str(release), "--data", str(synth_store), "--out", str(tmp_path / "ev")]) == 1
    assert "does not fit its config.json" in err_line(capsys)


def test_disk_full_while_checkpointing_leaves_no_temporary_file(tmp_path, monkeypatch):
    import torch

    from masa.train import checkpoint

    def full(state, f, *args, **kwargs):  # f: a path or an open file, as torch.save takes
        f.write(b"partial") if hasattr(f, "write") else Path(f).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device", str(getattr(f, "name", f)))

    checkpoint.save(tmp_path / "last.pt", {"step": 1})
    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(OSError):
        checkpoint.save(tmp_path / "last.pt", {"step": 2}, keep_previous=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last.pt"]
    assert checkpoint.load(tmp_path / "last.pt")["step"] == 1


def test_non_finite_loss_at_step_one_names_the_samples_not_a_missing_checkpoint(synth_store, tmp_path, monkeypatch):
    from masa import losses
    from masa.config import resolve
    from masa.train.pretrain import NonFiniteLoss, pretrain

    monkeypatch.setattr(losses, "motion_loss", lambda *a, **k: torch_nan())
    cfg = resolve(["tiny"], ["pretrain.batch_size=4", "pretrain.queue_size=8"])
    with pytest.raises(NonFiniteLoss) as err:
        pretrain(cfg, [synth_store], tmp_path / "run", progress=False)
    assert "store:" in str(err.value) and "no checkpoint was written yet" in str(err.value)
    assert "last.pt" not in str(err.value)


def torch_nan():
    import torch

    return torch.tensor(float("nan"), requires_grad=True)


def test_single_frame_data_is_refused_for_pretraining(tmp_path, capsys):
    from masa.data.store import StoreWriter

    writer = StoreWriter(tmp_path / "store", {"classes": []})
    for i in range(8):
        writer.add(f"s{i}", np.random.default_rng(i).uniform(50, 200, (1, 49, 3)).astype(np.float32), split="train")
    writer.close()
    assert main(["pretrain", "--data", str(tmp_path / "store"), "--out", str(tmp_path / "run"), *PRETRAIN]) == 1
    assert "no motion to predict" in err_line(capsys)


def test_nan_frames_are_never_scored(synth_store, tmp_path, capsys):
    import shutil

    fin = tmp_path / "fin"
    assert main(["finetune", "--data", str(synth_store), "--init", "none", "--out", str(fin), *FINETUNE,
                 "--set", "finetune.epochs=1"]) == 0
    nan_store = tmp_path / "nan"
    shutil.copytree(synth_store, nan_store)
    meta = json.loads((nan_store / "meta.json").read_text())
    del meta["checksum"]  # a store from before the import refused NaN
    (nan_store / "meta.json").write_text(json.dumps(meta))
    frames = np.memmap(nan_store / "frames.f32", dtype="<f4", mode="r+")
    frames[:] = np.nan
    frames.flush()
    assert main(["evaluate", "--checkpoint", str(fin), "--data", str(nan_store), "--out", str(tmp_path / "ev")]) == 1
    assert "non-finite frames" in err_line(capsys)
    assert not (tmp_path / "ev" / "metrics.json").exists()


def test_predict_never_ranks_nan_scores(synth_store, poses, tmp_path, monkeypatch):
    import torch

    from masa import predict, release

    fin = tmp_path / "fin"
    assert main(["finetune", "--data", str(synth_store), "--init", "none", "--out", str(fin), *FINETUNE,
                 "--set", "finetune.epochs=1"]) == 0
    model, meta = release.load(fin)
    monkeypatch.setattr(model, "forward", lambda xy, *rest: torch.full((len(xy), len(meta["classes"])), float("nan")))
    monkeypatch.setattr(predict.release, "load", lambda *a, **k: (model, meta))
    results = predict.predict_files(fin, [poses / "book" / "b0.npy"], "mediapipe-holistic")
    assert "top" not in results[0] and "not finite" in results[0]["error"]


def test_stores_and_releases_respect_the_umask(poses, tmp_path):
    from masa import release
    from masa.config import resolve
    from masa.model.registry import build_classifier

    cfg = resolve(["tiny"], ["model.backbone=tcn"])
    old = os.umask(0o022)
    try:
        assert main(import_cmd(poses, tmp_path / "store")) == 0
        release.save(tmp_path / "release", build_classifier(cfg.model, 3), cfg, ["a", "b", "c"])
    finally:
        os.umask(old)
    assert (tmp_path / "store").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "release").stat().st_mode & 0o777 == 0o755


def test_info_on_an_empty_store_does_not_crash(tmp_path, capsys):
    from masa.data.store import StoreWriter

    StoreWriter(tmp_path / "empty", {"classes": []}).close()
    assert main(["data", "info", str(tmp_path / "empty")]) == 0
    assert "samples  0" in capsys.readouterr().out


@pytest.mark.parametrize("config, weights, expect", [
    ('{"format": "masa-classifier"}', b"junk", "config.json is incomplete"),
    ("{not json", b"junk", "not valid JSON"),
])
def test_predict_with_a_broken_release_is_one_line(poses, tmp_path, capsys, config, weights, expect):
    (tmp_path / "rel").mkdir()
    (tmp_path / "rel" / "config.json").write_text(config)
    (tmp_path / "rel" / "model.safetensors").write_bytes(weights)
    assert main(["predict", "--checkpoint", str(tmp_path / "rel"), str(poses / "book" / "b0.npy")]) == 1
    assert expect in err_line(capsys)
