import numpy as np
import pytest
import torch

from masa.data.store import PoseStore, StoreError, StoreSet, StoreWriter


def write_store(path, lengths, split="train", meta=None):
    w = StoreWriter(path, meta or {"classes": ["a", "b"]})
    rng = np.random.default_rng(len(lengths))
    samples = []
    for i, n in enumerate(lengths):
        frames = rng.uniform(0, 256, (n, 49, 3)).astype(np.float32)
        w.add(f"s{i}", frames, label=i % 2, split=split if isinstance(split, str) else split[i], signer="p", source=f"f{i}")
        samples.append(frames)
    w.close({"imported": len(lengths)})
    return samples


def test_round_trip_reads_each_sample(tmp_path):
    samples = write_store(tmp_path / "st", [3, 7, 1], split=["train", "test", "train"])
    store = PoseStore(tmp_path / "st")
    assert len(store) == 3 and store.classes == ["a", "b"]
    for i, frames in enumerate(samples):
        got, label = store[i]
        np.testing.assert_array_equal(got, frames)
        assert label == i % 2
    assert store.indices("train").tolist() == [0, 2] and store.find("s1") == 1
    assert store.info(1).source == "f1" and store.info(1).length == 7
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temporary folder left


class Lengths(torch.utils.data.Dataset):
    def __init__(self, store):
        self.store = store

    def __len__(self):
        return len(self.store)

    def __getitem__(self, i):
        frames, label = self.store[i]
        return torch.tensor(frames.sum()), label


def test_safe_with_dataloader_workers(tmp_path):
    write_store(tmp_path / "st", list(range(1, 21)))
    store = PoseStore(tmp_path / "st")
    _ = store[0]  # the parent has its map open; workers must open their own
    direct = [float(store[i][0].sum()) for i in range(len(store))]
    loader = torch.utils.data.DataLoader(Lengths(store), batch_size=4, num_workers=2)
    got = torch.cat([b[0] for b in loader]).tolist()
    np.testing.assert_allclose(got, direct, rtol=1e-5)


def test_several_stores_read_as_one(tmp_path):
    a = write_store(tmp_path / "a", [2, 3], split=["train", "test"])
    b = write_store(tmp_path / "b", [4], split="train")
    both = StoreSet([tmp_path / "a", tmp_path / "b"], splits=["train"])
    assert len(both) == 2 and both.lengths().tolist() == [2, 4]
    np.testing.assert_array_equal(both[1][0], b[0])
    np.testing.assert_array_equal(both[0][0], a[0])


def test_damaged_store_is_detected(tmp_path):
    write_store(tmp_path / "st", [5])
    with open(tmp_path / "st" / "frames.f32", "r+b") as f:
        f.truncate(100)
    with pytest.raises(StoreError, match="damaged"):
        PoseStore(tmp_path / "st")
    with pytest.raises(StoreError, match="not a pose store"):
        PoseStore(tmp_path)


def test_existing_store_is_not_replaced_without_overwrite(tmp_path):
    write_store(tmp_path / "st", [5])
    with pytest.raises(FileExistsError):
        StoreWriter(tmp_path / "st", {})
    w = StoreWriter(tmp_path / "st", {}, overwrite=True)
    w.add("x", np.zeros((2, 49, 3), np.float32))
    assert len(PoseStore(tmp_path / "st")) == 1 and PoseStore(tmp_path / "st").lengths[0] == 5  # old still there
    w.close()
    assert PoseStore(tmp_path / "st").lengths.tolist() == [2]


def test_writer_refuses_bad_frames_and_duplicates(tmp_path):
    w = StoreWriter(tmp_path / "st", {})
    w.add("a", np.zeros((1, 49, 3)))
    with pytest.raises(StoreError, match="duplicate"):
        w.add("a", np.zeros((1, 49, 3)))
    with pytest.raises(StoreError, match="shape"):
        w.add("b", np.zeros((0, 49, 3)))
    w.abort()
    assert not list(tmp_path.iterdir())
