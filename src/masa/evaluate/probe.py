"""`masa probe`: judge a pre-trained encoder without fine-tuning noise (MAE, MoCo).

The encoder is frozen; each labelled sample becomes its pooled embedding (centre-sampled
clip, eval mode). Two read-outs are trained on the train split and scored on the test split
(val when there is no test split):
  * linear probe: multinomial logistic regression on standardised features, full-batch
    L-BFGS, the L2 weight picked on the validation split when there is one;
  * k-NN: cosine similarity, the k nearest training samples vote, weighted by exp(s / 0.07).
The same is reported for a randomly initialised encoder of the same architecture, the floor
that pre-training has to beat.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from masa import config as cfgmod
from masa.data.dataset import ClipDataset, collate_clips
from masa.data.store import PoseStore
from masa.evaluate.scores import batch_inputs
from masa.model.registry import build_classifier

L2_WEIGHTS = (1e-4, 1e-3, 1e-2, 1e-1)


@torch.inference_mode()
def embed(model, store: PoseStore, idx, cfg: cfgmod.Config, batch_size: int = 128) -> np.ndarray:
    """Pooled embeddings (N, D) of the samples `idx`, centre-sampled to finetune.num_frames."""
    model.eval()
    data = ClipDataset(store, idx, cfg.normalise, cfg.finetune.num_frames, cfg.finetune.sampling)
    out = []
    for batch in DataLoader(data, batch_size=batch_size, collate_fn=collate_clips):
        xy, present, valid = batch_inputs(batch, "cpu")
        out.append(model.features(xy[:, 0], present[:, 0], valid[:, 0]).float())
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


def _fit_logistic(x: torch.Tensor, y: torch.Tensor, classes: int, l2: float, steps: int = 100) -> torch.nn.Linear:
    torch.manual_seed(0)
    head = torch.nn.Linear(x.shape[1], classes)
    opt = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(head(x), y) + l2 * head.weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    return head


def linear_probe(train, train_y, test, test_y, classes: int, val=None, val_y=None) -> tuple[float, float]:
    """-> (test top-1, the L2 weight used)."""
    mean, std = train.mean(0), train.std(0) + 1e-6
    t = lambda a: torch.from_numpy((a - mean) / std).float()  # noqa: E731
    x, y = t(train), torch.from_numpy(train_y)
    tuned = val is not None and len(val)
    best_l2, best, head = L2_WEIGHTS[1], -1.0, None
    for l2 in L2_WEIGHTS if tuned else (best_l2,):
        fitted = _fit_logistic(x, y, classes, l2)
        with torch.no_grad():
            acc = float((fitted(t(val)).argmax(1).numpy() == val_y).mean()) if tuned else 0.0
        if acc > best:
            best_l2, best, head = l2, acc, fitted
    with torch.no_grad():
        pred = head(t(test)).argmax(1).numpy()
    return float((pred == test_y).mean()), best_l2


def knn(train, train_y, test, test_y, classes: int, k: int = 10, temperature: float = 0.07) -> float:
    a = F.normalize(torch.from_numpy(train).float(), dim=1)
    b = F.normalize(torch.from_numpy(test).float(), dim=1)
    sim = b @ a.T  # (N_test, N_train)
    top, where = sim.topk(min(k, a.shape[0]), dim=1)
    votes = torch.zeros(b.shape[0], classes).scatter_add_(1, torch.from_numpy(train_y)[where], (top / temperature).exp())
    return float((votes.argmax(1).numpy() == test_y).mean())


def read_outs(model, store: PoseStore, cfg: cfgmod.Config, test_split: str) -> dict:
    tr, va, te = store.labelled("train"), store.labelled("val"), store.labelled(test_split)
    feats = {name: embed(model, store, idx, cfg) for name, idx in (("train", tr), ("val", va), ("test", te))}
    labels = {name: store.labels[idx] for name, idx in (("train", tr), ("val", va), ("test", te))}
    classes = len(store.classes)
    use_val = test_split != "val" and len(va) > 0
    top1, l2 = linear_probe(feats["train"], labels["train"], feats["test"], labels["test"], classes,
                            feats["val"] if use_val else None, labels["val"] if use_val else None)
    return {"linear_top1": top1, "linear_l2": l2, "knn_top1": knn(feats["train"], labels["train"], feats["test"],
                                                                   labels["test"], classes),
            "dim": int(feats["train"].shape[1])}


def probe(checkpoint, data, seed: int = 0, overrides: list[str] | None = None) -> dict:
    """Linear-probe and k-NN top-1 of a pre-training run's encoder (the online one, or with
    finetune.init_encoder=momentum in `overrides` its momentum copy) and of a random one."""
    from masa.train.starting_point import pretrained_state

    store = PoseStore(data)
    if not store.classes or len(store.labelled("train")) == 0:
        raise ValueError(f"{data} has no labelled train split: import it with --labels (and splits) to probe")
    test_split = "test" if len(store.labelled("test")) else "val"
    if len(store.labelled(test_split)) == 0:
        raise ValueError(f"{data} has neither a labelled test nor a val split to score the probe on")
    state, pre = pretrained_state(checkpoint)
    cfg = cfgmod.apply_overrides(cfgmod.Config(), cfgmod.flatten({"model": pre["model"], "normalise": pre["normalise"]})
                                 + list(overrides or []))
    torch.manual_seed(seed)
    random_model = build_classifier(cfg.model, len(store.classes))
    trained = build_classifier(cfg.model, len(store.classes))
    trained.load_encoder(state, cfg.finetune.init_encoder)
    return {"data": str(data), "checkpoint": str(checkpoint), "test_split": test_split,
            "train_samples": int(len(store.labelled("train"))), "classes": len(store.classes),
            "pretrained": read_outs(trained, store, cfg, test_split),
            "random": read_outs(random_model, store, cfg, test_split)}


def format_probe(result: dict) -> str:
    p, r = result["pretrained"], result["random"]
    return "\n".join([
        f"probe on {result['data']} ({result['train_samples']} train samples, {result['classes']} classes, "
        f"scored on {result['test_split']}):",
        f"  linear probe  pre-trained {p['linear_top1']:.1%}   random encoder {r['linear_top1']:.1%}",
        f"  k-NN (k=10)   pre-trained {p['knn_top1']:.1%}   random encoder {r['knn_top1']:.1%}",
    ])
