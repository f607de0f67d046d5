"""Why a training run stops on its own."""


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or inf; the message names the batch's samples and the last checkpoint."""
