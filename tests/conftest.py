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


def write_synth_store(path: Path, overrides: list[str]) -> Path:
    """The synthetic corpus with `overrides` (synth.* and normalise.*) imported as a store at `path`."""
    from masa.config import resolve
    from masa.data.ingest import import_samples
    from masa.data.synth import synthesise

    cfg = resolve(overrides=overrides)
    sources, labels = synthesise(cfg.synth)
    import_samples(sources, path, cfg.normalise, labels, progress=False)
    return path


def hand_points(centre, size, rng=None):
    """21 plausible hand joints around a centre, spread over `size` pixels."""
    rng = rng or np.random.default_rng(0)
    return np.asarray(centre) + rng.uniform(-size / 2, size / 2, (21, 2))


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path
