import json

import pytest

from masa.poses.labels import read_labels


def test_csv_labels_with_split_and_signer(tmp_path):
    (tmp_path / "labels.csv").write_text("file,label,split,signer\nhello/a.pose,hello,train,s1\nb.pose,bye,test,s2\nc.pose,hello,,\n")
    table = read_labels([str(tmp_path / "labels.csv")])
    assert table.classes == ["bye", "hello"]
    a = table.lookup("hello/a")
    assert (a.label, a.split, a.signer) == (1, "train", "s1")
    assert table.lookup("x/b").label == 0 and table.lookup("c").split is None
    assert table.lookup("zzz") is None


def test_csv_unknown_label_against_a_class_list(tmp_path):
    (tmp_path / "l.csv").write_text("a.npz,cat\nb.npz,dog\n")
    (tmp_path / "classes.txt").write_text("cat\nbird\n")
    table = read_labels([str(tmp_path / "l.csv")], class_list=tmp_path / "classes.txt")
    assert table.lookup("a").label == 0 and table.lookup("b") is None and table.unknown_label("b") == "dog"


def test_bad_csv_split_is_an_error(tmp_path):
    (tmp_path / "l.csv").write_text("a.npz,cat,training\n")
    with pytest.raises(ValueError, match="row 1"):
        read_labels([str(tmp_path / "l.csv")])


def test_wlasl_nslt_official_split(wlasl_dir):
    table = read_labels([str(wlasl_dir / "nslt_100.json")])
    assert len(table.classes) == 100 and table.classes[0] == "book"
    splits = [a.split for a in table.entries.values()]
    assert len(table.entries) == 2038 and {"train", "val", "test"} == set(splits)


def test_wlasl_v03_with_subset(tmp_path):
    data = [{"gloss": g, "instances": [{"video_id": f"{g}{i}", "split": s, "signer_id": i} for i, s in enumerate(["train", "val", "test"])]}
            for g in ("book", "drink", "computer")]
    (tmp_path / "WLASL_v0.3.json").write_text(json.dumps(data))
    table = read_labels([str(tmp_path / "WLASL_v0.3.json")], subset=2)
    assert table.classes == ["book", "drink"] and table.lookup("drink2").label == 1
    assert table.lookup("drink2").split == "test" and table.lookup("drink2").signer == "2"
    assert table.lookup("computer0") is None


def test_msasl_json_files(tmp_path):
    (tmp_path / "MSASL_classes.json").write_text(json.dumps(["hello", "nice", "teacher"]))
    for split, labels in (("train", [0, 2, 1]), ("val", [1]), ("test", [2, 0])):
        clips = [{"label": lab, "signer_id": 7, "clean_text": "x", "url": "u", "start_time": 0.0} for lab in labels]
        (tmp_path / f"MSASL_{split}.json").write_text(json.dumps(clips))
    files = [str(tmp_path / f"MSASL_{s}.json") for s in ("train", "val", "test")]
    table = read_labels(files)
    assert table.classes == ["hello", "nice", "teacher"]
    assert table.lookup("train_00001").label == 2 and table.lookup("test_00000").split == "test"
    sub = read_labels(files, subset=2)
    assert sub.classes == ["hello", "nice"] and sub.lookup("train_00001") is None


def test_csl_list_files(tmp_path):
    (tmp_path / "trainlist01.txt").write_text("P01_s1_00_0_color 0\nP01_s1_01_0_color 1\n")
    (tmp_path / "testlist01.txt").write_text("000/P50_s1_00_0_color.mp4\n002/P50_s1_02_0_color.mp4\n")
    table = read_labels([str(tmp_path / "trainlist01.txt"), str(tmp_path / "testlist01.txt")])
    assert table.lookup("P01_s1_01_0_color").label == 1 and table.lookup("P01_s1_01_0_color").split == "train"
    t = table.lookup("000/P50_s1_00_0_color")
    assert t.label == 0 and t.split == "test"
    assert table.lookup("002/P50_s1_02_0_color").label == 2 and len(table.classes) == 3


def test_list_split_can_be_named(tmp_path):
    (tmp_path / "lst.txt").write_text("a 3\n")
    assert read_labels([f"{tmp_path / 'lst.txt'}:val"]).lookup("a").split == "val"
    (tmp_path / "odd.txt").write_text("lonely\n")
    with pytest.raises(ValueError, match="line 1"):
        read_labels([str(tmp_path / "odd.txt")])
