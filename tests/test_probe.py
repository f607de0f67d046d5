"""`masa probe`: a frozen pre-trained encoder read out by a linear probe and k-NN, against
the same architecture left at random initialisation."""
import json

import pytest

from masa.cli import main
from masa.config import resolve
from masa.data.ingest import import_samples
from masa.data.synth import synthesise
from masa.evaluate.probe import knn, linear_probe
from masa.train.pretrain import pretrain
from tests.conftest import write_synth_store

SYNTH = ["synth.num_classes=6", "synth.num_signers=8", "synth.val_signers=1", "synth.test_signers=2",
         "synth.min_frames=24", "synth.max_frames=36", "synth.repeats=3"]
# lr 3e-4, not tiny's 1e-3: at 1e-3 one seed's k-NN fell below the random encoder's. One
# pre-training draw is still a lottery on 36 test samples, and each machine's arithmetic is a
# different draw: the default seed (42) gave linear 53 % on an Intel Xeon and 28 % on an AMD EPYC
# (CI failed there). So the test reads out two draws, seeds 0 and 1, and judges their mean.
PRE = ["pretrain.epochs=40", "pretrain.batch_size=16", "pretrain.queue_size=64", "pretrain.warmup_epochs=2",
       "pretrain.lambda_ramp_epochs=5", "pretrain.threads=1", "pretrain.lr=3e-4"]
SEEDS = (0, 1)


def test_read_outs_on_separable_features():
    import numpy as np

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 5, (4, 8))
    y = np.repeat(np.arange(4), 30)
    x = centres[y] + rng.normal(0, 1, (120, 8))
    assert linear_probe(x[::2], y[::2], x[1::2], y[1::2], 4)[0] > 0.95
    assert knn(x[::2].astype("f4"), y[::2], x[1::2].astype("f4"), y[1::2], 4) > 0.95


@pytest.fixture
def one_thread():
    """Pre-training's result depends on the thread count's summation order: pin it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_probe_beats_chance_and_a_random_encoder(tmp_path, capsys, one_thread):
    write_synth_store(tmp_path / "store", SYNTH)
    draws = []
    for seed in SEEDS:
        pretrain(resolve(["tiny"], SYNTH + PRE + [f"pretrain.seed={seed}"]), [tmp_path / "store"], tmp_path / f"pre{seed}",
                 progress=False)
        out = tmp_path / f"probe{seed}.json"
        assert main(["probe", "--checkpoint", str(tmp_path / f"pre{seed}"), "--data", str(tmp_path / "store"),
                     "--out", str(out), "--threads", "1"]) == 0
        assert "linear probe" in capsys.readouterr().out
        draws.append(json.loads(out.read_text()))
    assert all(r["test_split"] == "test" and r["classes"] == 6 for r in draws)
    assert draws[0]["random"] == draws[1]["random"]  # one random encoder (the probe's seed), two pre-trainings

    def mean(side, key):
        return sum(r[side][key] for r in draws) / len(draws)

    chance = 1 / 6
    # 36 test samples: margins that held for the mean of seeds 0 and 1 on two machines (linear
    # 47 and 49 %, k-NN 47 and 43 %; the random encoder 31 % and 14-17 %), not the draws' own figures
    assert mean("pretrained", "linear_top1") > 2 * chance and mean("pretrained", "knn_top1") > 1.5 * chance, draws
    gain = (mean("pretrained", "linear_top1") + mean("pretrained", "knn_top1")
            - mean("random", "linear_top1") - mean("random", "knn_top1")) / 2  # of the mean read-out
    assert gain > 0.1 and mean("pretrained", "knn_top1") > mean("random", "knn_top1") + 0.1, draws


def test_probe_needs_labels(tmp_path, capsys):
    cfg = resolve(["tiny"], SYNTH)
    sources, _ = synthesise(cfg.synth)
    import_samples(sources, tmp_path / "store", cfg.normalise, None, progress=False)
    assert main(["probe", "--checkpoint", str(tmp_path / "nowhere"), "--data", str(tmp_path / "store")]) == 1
    assert "no labelled train split" in capsys.readouterr().err
