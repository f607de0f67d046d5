import re
import subprocess
import sys
from pathlib import Path

from masa.cli import main
from masa.data.store import PoseStore

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "masa", "--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("data", "demo", "pretrain", "finetune", "evaluate", "predict", "export", "fuse", "show", "runs"):
        assert re.search(rf"^\s+{cmd}\s", out, re.M), cmd


def test_every_option_of_every_command_has_help_text():
    import argparse

    from masa.cli import build_parser

    def walk(parser, name):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, p in action.choices.items():
                    yield from walk(p, f"{name} {sub}")
            elif not isinstance(action, argparse._HelpAction):
                yield f"{name} {'/'.join(action.option_strings) or action.dest}", action.help

    missing = [where for where, text in walk(build_parser(), "masa") if not text]
    assert not missing, missing


def test_wlasl100_import_gives_the_official_counts(wlasl_dir, tmp_path, capsys):
    out = tmp_path / "wlasl"
    code = main(["data", "import", str(wlasl_dir / "landmarks"), "--format", "mediapipe-hands", "--quiet",
                 "--labels", str(wlasl_dir / "nslt_100.json"), "--image-size", "640x480", "--out", str(out)])
    assert code == 0
    store = PoseStore(out)
    assert len(store) == 542
    assert [store.splits.count(s) for s in ("train", "val", "test")] == [389, 80, 73]
    assert len(store.classes) == 100 and store.classes[store.labels[store.find("book/07069")]] == "book"
    capsys.readouterr()
    assert main(["data", "info", str(out)]) == 0
    info = capsys.readouterr().out
    assert "samples  542" in info and "test 73" in info and "missing" in info


def test_synth_and_info_json(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["data", "synth", "--out", str(out), "--quiet", "--set", "synth.num_classes=4", "--set", "synth.num_signers=3"]) == 0
    assert len(PoseStore(out)) == 4 * 3 * 3
    assert main(["data", "info", str(out), "--json"]) == 0
    assert '"classes": 4' in capsys.readouterr().out


def test_readme_and_ci_run_the_same_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    test_cmd = next(line for b in blocks for line in b.splitlines() if "pytest" in line)
    assert test_cmd.strip() in ci
    assert any("masa demo" in line for b in blocks[:2] for line in b.splitlines())
