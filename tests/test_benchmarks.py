"""The benchmark scripts run (tiny settings) and print the machine and their figures.
Their numbers are recorded in docs/benchmarks.md, never asserted here."""
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize("script, args, expect", [
    ("pretrain_step.py", ["--sizes", "tiny", "--lengths", "8", "--batch", "4", "--steps", "1", "--warmup", "0"], "GFLOP/step"),
    ("data_pipeline.py", ["--samples", "60", "--step-rate", "10"], "masking + targets"),
    ("classifier_latency.py", ["--sizes", "tiny", "--frames", "8", "--batch", "4", "--rounds", "1"], "onnxruntime"),
    ("import_throughput.py", ["--samples", "5", "--frames", "10"], "sequences/s"),
])
def test_benchmark_runs(script, args, expect):
    done = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("machine:") and "torch" in done.stdout
    assert expect in done.stdout
