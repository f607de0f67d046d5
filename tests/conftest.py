import json
from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
WLASL_DIR = SHARED_DATA / "wlasl100-hands-devtushar"
POSE_SAMPLES = SHARED_DATA / "pose-format-samples"


def need(path: Path):
    """Skip, saying why, where the shared real data is not beside the checkout."""
    if not path.exists():
        pytest.skip(f"real data not found at {path} (tests read ../shared/data beside the checkout)")
    return path


@pytest.fixture
def wlasl_dir():
    return need(WLASL_DIR)


@pytest.fixture
def pose_samples():
    return need(POSE_SAMPLES)


def hand_points(centre, size, rng=None):
    """21 plausible hand joints around a centre, spread over `size` pixels."""
    rng = rng or np.random.default_rng(0)
    return np.asarray(centre) + rng.uniform(-size / 2, size / 2, (21, 2))


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path
