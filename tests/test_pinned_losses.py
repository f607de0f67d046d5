"""The redesign of the model's construction and inputs (issue 12) must not change what is
computed: the losses of a few pre-training steps and fine-tuning epochs are pinned to the
values recorded at commit 479fd45, before the redesign, with the same seeds and one thread.
A deliberate change to the model or its inputs updates these numbers in the same commit,
saying why."""
import pytest
import torch

from masa.config import resolve
from masa.files import read_jsonl
from masa.train.finetune import finetune
from masa.train.pretrain import pretrain
from tests.conftest import write_synth_store

SMALL = ["synth.num_classes=4", "synth.num_signers=3", "synth.val_signers=1", "synth.test_signers=1",
         "synth.min_frames=20", "synth.max_frames=30"]
PRETRAIN = [(3468.405029296875, 0.00019322262960486114), (2122.1455078125, 1.8747241497039795),
            (2897.798095703125, 3.142683267593384), (2368.193359375, 2.843909740447998)]  # (L_m, L_s) per step
FINETUNE = [(1.386973222096761, 0.25), (1.3981369336446126, 0.25)]  # (train loss, val top-1) per epoch


def test_the_same_seed_gives_the_recorded_losses(tmp_path):
    threads = torch.get_num_threads()
    try:
        store = write_synth_store(tmp_path / "store", SMALL)
        pre = resolve(["tiny"], ["pretrain.batch_size=8", "pretrain.queue_size=16", "pretrain.log_every=1",
                                 "pretrain.epochs=2", "pretrain.warmup_epochs=1", "pretrain.lambda_ramp_epochs=0",
                                 "pretrain.max_steps=4", "pretrain.threads=1"])
        pretrain(pre, [store], tmp_path / "pre", progress=False)
        ft = resolve(["tiny"], ["finetune.epochs=2", "finetune.batch_size=8", "finetune.threads=1"])
        finetune(ft, store, str(tmp_path / "pre"), tmp_path / "ft", progress=False)
    finally:
        torch.set_num_threads(threads)
    got = [(r["loss_m"], r["loss_s"]) for r in read_jsonl(tmp_path / "pre" / "metrics.jsonl")]
    assert got == [pytest.approx(p, rel=1e-4, abs=1e-5) for p in PRETRAIN]
    got = [(r["loss"], r["val_top1"]) for r in read_jsonl(tmp_path / "ft" / "metrics.jsonl")]
    assert got == [pytest.approx(p, rel=1e-4) for p in FINETUNE]
