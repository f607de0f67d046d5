"""The pre-training loop: outputs, exact resume, NaN stop, queue checks, 2-process DDP."""
import json
import os
import subprocess
import sys

import pytest
import torch

from masa import losses
from masa.cli import main
from masa.config import resolve
from masa.train import checkpoint
from masa.train.pretrain import NonFiniteLoss, pretrain
from tests.conftest import write_synth_store

SMALL = ["synth.num_classes=4", "synth.num_signers=3", "synth.val_signers=0", "synth.test_signers=1",
         "synth.min_frames=20", "synth.max_frames=30"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_synth_store(tmp_path_factory.mktemp("pre") / "store", SMALL)  # 24 train samples, 12 test


def tiny(*extra):
    return resolve(["tiny"], ["pretrain.batch_size=8", "pretrain.queue_size=16", "pretrain.log_every=1",
                              "pretrain.epochs=3", "pretrain.warmup_epochs=1", "pretrain.lambda_ramp_epochs=0", *extra])


def read_metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_run_directory_and_test_split_left_out(store, tmp_path):
    run = tmp_path / "run"
    metrics = pretrain(tiny("pretrain.epochs=1"), [store], run, progress=False)
    assert metrics["step"] == 3  # 24 non-test samples / batch 8
    assert json.loads((run / "config.json").read_text())["model"]["size"] == "tiny"
    assert len(read_metrics(run)) == 3
    assert list((run / "tb").glob("events.out.tfevents.*"))
    state = checkpoint.load(run / "checkpoints" / "last.pt")
    assert state["epoch"] == 1 and state["step"] == 3 and "encoder_q.mask_token" in state["model"]
    assert (run / "checkpoints" / "epoch_0001.pt").exists()
    assert not list((run / "checkpoints").glob(".*tmp"))
    with pytest.raises(FileExistsError, match="--resume"):
        pretrain(tiny(), [store], run, progress=False)


def test_resume_gives_the_same_losses(store, tmp_path):
    full = tmp_path / "full"
    pretrain(tiny("pretrain.max_steps=7"), [store], full, progress=False)
    part = tmp_path / "part"
    pretrain(tiny("pretrain.max_steps=4"), [store], part, progress=False)  # stops mid-epoch 1
    pretrain(tiny("pretrain.max_steps=7"), [store], part, resume=True, progress=False)
    a, b = read_metrics(full), read_metrics(part)
    assert [m["step"] for m in b] == list(range(1, 8))
    for x, y in zip(a, b):
        for key in ("loss", "loss_m", "loss_s", "lr", "lambda_s"):
            assert x[key] == pytest.approx(y[key], rel=1e-5, abs=1e-7), (x["step"], key)
    qa = checkpoint.load(full / "checkpoints" / "last.pt")["model"]["queue"]
    qb = checkpoint.load(part / "checkpoints" / "last.pt")["model"]["queue"]
    torch.testing.assert_close(qa, qb)


def test_resume_from_a_stop_at_the_end_of_an_epoch(store, tmp_path):
    """max_steps = one epoch's batches leaves a checkpoint after the epoch's last batch: the
    resumed epoch has no batch left and the run goes on with the next one."""
    full, part = tmp_path / "full", tmp_path / "part"
    pretrain(tiny("pretrain.max_steps=5", "pretrain.log_every=1"), [store], full, progress=False)
    pretrain(tiny("pretrain.max_steps=3", "pretrain.log_every=1"), [store], part, progress=False)  # 24 / 8 = 3
    pretrain(tiny("pretrain.max_steps=5", "pretrain.log_every=1"), [store], part, resume=True, progress=False)
    a, b = read_metrics(full), read_metrics(part)
    assert [m["step"] for m in b] == [1, 2, 3, 4, 5]
    assert [m["loss"] for m in b] == pytest.approx([m["loss"] for m in a], rel=1e-5)


def test_non_finite_loss_stops_the_run_naming_the_step(store, tmp_path, monkeypatch):
    real = losses.motion_loss
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        out = real(*args, **kwargs)
        return out * float("nan") if calls["n"] == 2 else out

    monkeypatch.setattr(losses, "motion_loss", flaky)
    with pytest.raises(NonFiniteLoss, match="step 2"):
        pretrain(tiny(), [store], tmp_path / "run", progress=False)


def test_queue_must_fit_the_global_batch(store, tmp_path, capsys):
    code = main(["pretrain", "--data", str(store), "--out", str(tmp_path / "r"), "--preset", "tiny", "--quiet",
                 "--set", "pretrain.batch_size=8", "--set", "pretrain.queue_size=20"])
    assert code == 1 and "multiple of the global batch" in capsys.readouterr().err


@pytest.mark.parametrize("preset, extra", [
    ("authors-code", []),
    ("paper", ["pretext.strategy=random", "pretext.target=joints"]),
    ("paper", ["pretrain.lambda_s=0"]),  # MA only
    ("paper", ["pretrain.ma_weight=0"]),  # SA only
    ("paper", ["pretext.extra_intervals=1,5"]),  # multi-scale motion
    ("paper", ["pretrain.amp=bf16", "pretrain.num_workers=1"]),  # mixed precision, a loader worker
])
def test_presets_and_ablations_train(store, tmp_path, preset, extra):
    cfg = resolve([preset, "tiny"], ["pretrain.batch_size=8", "pretrain.queue_size=16", "pretrain.epochs=1", *extra])
    metrics = pretrain(cfg, [store], tmp_path / "run", progress=False)
    assert metrics["step"] == 3 and all(map(lambda v: v == v, metrics.values()))
    if "pretrain.lambda_s=0" in extra:
        assert metrics["loss_s"] == 0 and metrics["loss_m"] > 0
    if "pretrain.ma_weight=0" in extra:
        assert metrics["loss_m"] == 0 and metrics["loss_s"] > 0


@pytest.fixture
def one_step(store):
    """(step, batch): step(*overrides) -> (L_m, the key encoder's embeddings) for one fixed batch,
    each call from the same weights (compute_losses moves the key encoder) and generator seed."""
    from masa.data.dataset import PoseDataset, collate
    from masa.data.store import PoseStore
    from masa.model.registry import build_pretrainer
    from masa.train.pretrain import compute_losses
    data = PoseDataset(PoseStore(store), tiny().normalise, tiny().pretrain.max_frames)
    batch = collate([data[i] for i in range(8)])
    torch.manual_seed(0)
    model = build_pretrainer(tiny()).eval()
    state = {k: v.clone() for k, v in model.state_dict().items()}

    def step(*extra):
        model.load_state_dict(state)
        _, parts, keys = compute_losses(model, model, batch, tiny(*extra), torch.Generator().manual_seed(0), 1.0,
                                        torch.device("cpu"))
        return parts["loss_m"], keys
    return step, batch


def test_the_sa_views_geometry_and_timing_reach_the_momentum_encoder_only(one_step):
    """With pretext.sa_* the key encoder sees its own transformed or re-timed view: other keys,
    the same masks and L_m (drawn first from the generator); the paper's setting changes nothing."""
    step, _ = one_step
    (m0, k0), (m1, k1), (m2, k2) = step(), step("pretext.sa_rotate=0"), step("pretext.sa_rotate=30", "pretext.sa_shift=30")
    assert torch.equal(k0, k1) and m0 == m1
    assert m2 == m0 and not torch.allclose(k0, k2, atol=1e-5)
    m3, k3 = step("pretext.sa_crop=0.5")
    assert m3 == m0 and not torch.allclose(k0, k3, atol=1e-5)


def test_the_clips_own_geometry_moves_the_motion_target_and_both_views(one_step, monkeypatch):
    """pretext.rotate etc. move the clip before anything is made of it: the motion target is the
    moved clip's (not the stored one's), both encoders see it, and the draw is the run's."""
    from masa import pretext
    step, batch = one_step
    made = []
    real = pretext.make_views
    monkeypatch.setattr(pretext, "make_views", lambda xy, *a, **k: made.append(xy) or real(xy, *a, **k))

    moved = ("pretext.rotate=30", "pretext.scale=0.2", "pretext.shift=20")
    (m0, k0), (m1, k1), (m2, k2) = step(), step(*moved), step(*moved)
    assert torch.equal(made[0], batch["xy"])  # the paper: the stored clip
    expected = pretext.clip_geometry(batch["xy"], batch["conf"], tiny(*moved).pretext,
                                     tiny().normalise.mirror_left_hand, torch.Generator().manual_seed(0))
    assert torch.equal(made[1], expected) and not torch.equal(made[1], made[0])
    assert m1 != m0 and not torch.allclose(k0, k1, atol=1e-5)  # the target and both encoders' inputs moved
    assert m1 == m2 and torch.equal(k1, k2)  # drawn from the run's generator: resumable


def test_gradient_clipping_reaches_the_pretraining_step(store, tmp_path, monkeypatch):
    """pretrain.grad_clip goes to every optimiser step (the clipping itself: test_finetune_tools)."""
    import masa.train.pretrain as loop
    seen = []
    real = loop.optimiser_step
    monkeypatch.setattr(loop, "optimiser_step", lambda *a: seen.append(a[3]) or real(*a))
    pretrain(tiny("pretrain.grad_clip=1.5", "pretrain.epochs=1"), [store], tmp_path / "clipped", progress=False)
    pretrain(tiny("pretrain.epochs=1"), [store], tmp_path / "paper", progress=False)
    assert seen == [1.5] * 3 + [0.0] * 3
    with pytest.raises(ValueError, match="grad_clip"):
        resolve(None, ["pretrain.grad_clip=-1"])


@pytest.mark.parametrize("preset, balanced", [(["small-data"], True), (["paper", "tiny"], False)])
def test_small_data_balances_the_two_losses(store, tmp_path, preset, balanced):
    """L_m is in squared box pixels (thousands), L_s a cross-entropy (about 2): with the paper's
    weights SA is a ten-thousandth of the loss; small-data weights both terms alike."""
    cfg = resolve(preset, ["pretrain.batch_size=8", "pretrain.queue_size=16", "pretrain.epochs=1",
                           "pretrain.lambda_ramp_epochs=0", "pretrain.log_every=1"])
    pretrain(cfg, [store], tmp_path / "run", progress=False)
    rows = read_metrics(tmp_path / "run")
    ma = sum(cfg.pretrain.ma_weight * r["loss_m"] for r in rows)
    sa = sum(r["lambda_s"] * r["loss_s"] for r in rows)
    assert (0.1 < ma / sa < 10) if balanced else (ma / sa > 1000)


def test_both_losses_fall(store, tmp_path):
    cfg = tiny("pretrain.epochs=40", "pretrain.lr=2e-3", "pretrain.lambda_ramp_epochs=2")
    pretrain(cfg, [store], tmp_path / "run", progress=False)
    rows = read_metrics(tmp_path / "run")
    first, last = rows[3:9], rows[-6:]
    mean = lambda rs, k: sum(r[k] for r in rs) / len(rs)
    assert mean(last, "loss_m") < 0.8 * mean(first, "loss_m")
    assert mean(last, "loss_s") < mean(first, "loss_s")


def test_two_process_ddp_on_cpu(store, tmp_path):
    run = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517", "-m", "masa",
           "pretrain", "--data", str(store), "--out", str(run), "--preset", "tiny", "--quiet",
           "--set", "pretrain.batch_size=4", "--set", "pretrain.queue_size=24", "--set", "pretrain.epochs=1",
           "--set", "pretrain.log_every=1"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = read_metrics(run)
    assert len(rows) == 3  # 24 samples / (4 per process x 2)
    state = checkpoint.load(run / "checkpoints" / "last.pt")
    assert int(state["model"]["queue_ptr"]) == (3 * 8) % 24  # keys of both processes were enqueued
    q = state["model"]["queue"]
    assert torch.unique(q.T.round(decimals=5), dim=0).shape[0] == 24  # 24 distinct keys, none random left
    assert (run / "checkpoints" / "last.rank1.rng.pt").exists()


def test_config_file_then_set_overrides(store, tmp_path, capsys):
    (tmp_path / "c.json").write_text(json.dumps({"pretrain": {"batch_size": 8, "queue_size": 16, "epochs": 1},
                                                 "pretext": {"interval": 2}}))
    run = tmp_path / "r"
    assert main(["pretrain", "--data", str(store), "--out", str(run), "--preset", "tiny", "--quiet",
                 "--config", str(tmp_path / "c.json"), "--set", "pretext.interval=4"]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["pretrain"]["batch_size"] == 8 and saved["pretext"]["interval"] == 4
    assert saved["model"]["size"] == "tiny" and saved["pretrain"]["betas"] == [0.9, 0.95]
    assert "pre-training done at step 3" in capsys.readouterr().out
