"""Loading pickles without running their code.

A pickle can call any importable function while it loads. Pose pickles only need numpy
arrays and plain containers, so the unpickler admits exactly those and refuses the rest.
"""
from __future__ import annotations

import io
import pickle

_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("collections", "OrderedDict"),
    ("builtins", "slice"),
    ("_codecs", "encode"),  # protocol 2 stores bytes as latin-1 text: encoding only
    ("builtins", "complex"),
}
# numpy pickles dtypes by class for some scalar types (numpy >= 1.25 / 2.x).
_ALLOWED_NUMPY_DTYPES = ("numpy.dtypes",)


class UnsafePickleError(pickle.UnpicklingError):
    pass


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED or (module in _ALLOWED_NUMPY_DTYPES and name.endswith("DType")):
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"refused to load {module}.{name}: pose pickles may hold only numpy arrays and plain containers"
        )


def safe_load(data: bytes):
    """Unpickle `data`, admitting only numpy arrays, scalars and builtin containers."""
    return _RestrictedUnpickler(io.BytesIO(data)).load()
