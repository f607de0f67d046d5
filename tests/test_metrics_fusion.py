import numpy as np
import pytest

from masa.evaluate import metrics
from masa.evaluate.fusion import as_probabilities, choose_weight, fuse


def test_metrics_against_a_hand_computed_case():
    # 4 classes; class 3 has no test sample; class 0 has 3 samples (2 right), class 1 one (right), class 2 two (0 right)
    scores = np.array([
        [0.7, 0.1, 0.1, 0.1],  # 0 -> 0 right
        [0.6, 0.2, 0.1, 0.1],  # 0 -> 0 right
        [0.1, 0.6, 0.2, 0.1],  # 0 -> 1 wrong (true class second? no: 0.1 is last-but-one)
        [0.1, 0.8, 0.05, 0.05],  # 1 -> 1 right
        [0.5, 0.3, 0.1, 0.1],  # 2 -> 0 wrong
        [0.1, 0.2, 0.3, 0.4],  # 2 -> 3 wrong, 2 is second
    ])
    labels = np.array([0, 0, 0, 1, 2, 2])
    m = metrics.summarise(scores, labels, 4)
    assert m["top1_per_instance"] == pytest.approx(3 / 6)
    assert m["top1_per_class"] == pytest.approx((2 / 3 + 1 + 0) / 3)  # class 3 is absent, not zero
    hits2 = metrics.topk_hits(scores, labels, 2)
    assert hits2.tolist() == [True, True, False, True, False, True]
    assert m["classes_present"] == 3 and m["samples"] == 6
    assert m["top5_per_instance"] == 1.0  # k is capped at the number of classes
    conf = metrics.confusion(scores, labels, 4)
    assert conf[0].tolist() == [2, 1, 0, 0] and conf[2].tolist() == [1, 0, 0, 1] and conf.sum() == 6
    pc = metrics.per_class(metrics.topk_hits(scores, labels, 1), labels, 4)
    assert np.isnan(pc[3]) and pc[1] == 1.0


def test_label_range_groups():
    scores = np.eye(4)[[0, 1, 2, 2]]
    labels = np.array([0, 1, 2, 3])
    g = metrics.by_label_range(scores, labels, {"low": (0, 1), "high": (2, 3)})
    assert g["low"]["top1_per_instance"] == 1.0 and g["high"]["top1_per_instance"] == 0.5
    assert g["high"]["samples"] == 2


def test_weight_is_chosen_on_validation():
    labels = np.array([0, 1, 2, 0])
    a = np.array([[.9, .05, .05], [.1, .2, .7], [.1, .1, .8], [.4, .5, .1]])  # right on 0, 2
    b = np.array([[.2, .7, .1], [.1, .8, .1], [.2, .5, .3], [.6, .2, .2]])  # right on 1, 3
    w, acc = choose_weight(a, b, labels, steps=11)
    assert acc == 1.0
    fused = w * a + (1 - w) * b
    assert (fused.argmax(1) == labels).all()
    w1, acc1 = choose_weight(a, a, labels, steps=11)
    assert w1 == 0.5  # every weight ties: the middle one


def test_fuse_files_aligned_by_id(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, 40)
    ids = np.array([f"s{i}" for i in range(40)])
    good = np.eye(5)[labels] * 3 + rng.normal(0, 1, (40, 5))  # logits, mostly right
    noisy = rng.normal(0, 1, (40, 5))
    for split in ("val", "test"):
        np.savez(tmp_path / f"a_{split}.npz", ids=ids, labels=labels, scores=as_probabilities(good))
        order = rng.permutation(40)  # the second model's file lists the samples in another order
        with open(tmp_path / f"b_{split}.csv", "w") as f:
            f.write("id," + ",".join(f"c{c}" for c in range(5)) + "\n")
            for i in order:
                f.write(ids[i] + "," + ",".join(f"{v:.6f}" for v in noisy[i]) + "\n")
    result = fuse((str(tmp_path / "a_val.npz"), str(tmp_path / "b_val.csv")),
                  (str(tmp_path / "a_test.npz"), str(tmp_path / "b_test.csv")))
    assert result["weight_a"] >= 0.5
    assert result["test"]["top1_per_instance"] >= result["test_b"]["top1_per_instance"]
    assert result["test_a"]["top1_per_instance"] == pytest.approx((good.argmax(1) == labels).mean())
    np.save(tmp_path / "short.npy", noisy[:10])
    with pytest.raises(ValueError, match="rows"):
        fuse((str(tmp_path / "a_val.npz"), str(tmp_path / "short.npy")), (str(tmp_path / "a_test.npz"), str(tmp_path / "short.npy")))


def test_confusion_picture_clusters_confusions_and_keeps_only_confused_classes_when_many(tmp_path):
    from PIL import Image

    from masa.evaluate.report import cluster_order, write_confusion

    n = 40
    matrix = np.eye(n, dtype=np.int64) * 5
    matrix[3, 31], matrix[31, 3], matrix[7, 22] = 4, 2, 1  # 3 and 31 are confused with each other
    classes = [f"c{i}" for i in range(n)]
    top = write_confusion(tmp_path / "confusion", matrix, classes, max_shown=30)
    assert top[:3] == [("c3", "c31", 4), ("c31", "c3", 2), ("c7", "c22", 1)] and len(top) == 3
    rows = (tmp_path / "confusion_top.csv").read_text().splitlines()
    assert rows[0] == "true,predicted,count" and rows[1] == "c3,c31,4"
    assert len((tmp_path / "confusion.csv").read_text().splitlines()) == n + 1  # every class in the table
    write_confusion(tmp_path / "all", matrix, classes, max_shown=50)
    assert Image.open(tmp_path / "confusion.png").size[0] < Image.open(tmp_path / "all.png").size[0]  # 30 drawn, not 40
    order = list(cluster_order(matrix[np.ix_([0, 3, 5, 31], [0, 3, 5, 31])]))
    assert abs(order.index(1) - order.index(3)) == 1  # the confused pair side by side
