"""Optional dependencies: where one is missing, one line that names the extra to install."""
from __future__ import annotations

import importlib.util

# module -> the extra of pyproject.toml that installs it
EXTRAS = {"onnx": "export", "onnxscript": "export", "onnxruntime": "export", "pyarrow": "parquet",
          "tensorboard": "tensorboard", "mediapipe": "video", "cv2": "video"}


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message says what to install."""


def require(*modules: str, purpose: str) -> None:
    """Raise MissingExtra, naming the pip command, unless every module can be imported."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        extras = sorted({EXTRAS.get(m, m) for m in missing})
        install = " ".join(f"'masa[{e}]'" for e in extras)
        raise MissingExtra(f"{purpose} needs {', '.join(missing)}, which is not installed: pip install {install} "
                           "(in a checkout: pip install -e '.[" + ",".join(extras) + "]')")
