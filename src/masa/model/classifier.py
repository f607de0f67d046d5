"""The sign classifier: the pre-trained embedding, encoder and pooling plus a linear layer."""
from __future__ import annotations

from torch import nn

from masa.config import ModelConfig
from masa.model.encoder import Encoder, xavier_init
from masa.model.sizes import ModelSize, get_size


# finetune.init_encoder -> the pre-training model's encoder of that name (masa.model.pretrainer)
ENCODERS = {"online": "encoder_q", "momentum": "encoder_k"}


class MASAClassifier(nn.Module):
    def __init__(self, size: ModelSize, cfg: ModelConfig, num_classes: int, dropout: float = 0.0):
        super().__init__()
        self.encoder = Encoder(size, cfg, with_mask_token=False)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.encoder.out_dim, num_classes)
        nn.init.normal_(self.fc.weight, std=0.01)
        nn.init.zeros_(self.fc.bias)

    def features(self, xy, present, valid):
        """The pooled sign embedding (B, encoder.out_dim)."""
        return self.encoder(xy, present, valid).pooled

    def forward(self, xy, present, valid):
        """xy (B, T, 49, 2) in [0, 1], present (B, T, 3) bool, valid (B, T) bool -> logits (B, C)."""
        return self.fc(self.dropout(self.features(xy, present, valid)))

    def load_encoder(self, state: dict, which: str = "online") -> list[str]:
        """Load encoder weights from a pre-training state dict: `which` (ENCODERS) is the online
        encoder (`encoder_q.*`) or its momentum copy (`encoder_k.*`); returns missing keys."""
        prefix = ENCODERS[which] + "."
        enc = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix) and "mask_token" not in k}
        if not enc:
            raise ValueError(f"no {prefix}* weights in this checkpoint: is it a MASA pre-training checkpoint?")
        result = self.encoder.load_state_dict(enc, strict=False)
        if result.unexpected_keys:
            raise ValueError(f"checkpoint does not fit this model: unexpected {result.unexpected_keys[:5]}")
        return list(result.missing_keys)


def masa_classifier(cfg: ModelConfig, num_classes: int, dropout: float = 0.0) -> MASAClassifier:
    """The `masa` backbone, freshly initialised; a pre-trained encoder is loaded over it."""
    model = MASAClassifier(get_size(cfg.size), cfg, num_classes, dropout)
    xavier_init(model.encoder)  # spec §4.9
    return model
