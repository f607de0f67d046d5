"""Why a training run stops on its own."""
from pathlib import Path


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or inf; the message names the batch's samples and the last checkpoint."""

    @classmethod
    def at(cls, where: str, sample_ids: list[str], last: Path) -> "NonFiniteLoss":
        ids = ", ".join(sample_ids[:8]) + (" ..." if len(sample_ids) > 8 else "")
        kept = f"the last good checkpoint is {last}" if last.exists() else "no checkpoint was written yet"
        return cls(f"non-finite loss {where}; the batch's samples: {ids}; the run stops, {kept}")
