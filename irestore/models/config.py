"""The architecture of a restoration network as plain data, stored in every checkpoint."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from irestore.errors import ConfigError
from irestore.nn.blocks import MIXERS, PLACEMENTS
from irestore.nn.mixers import GATES
from irestore.nn.norms import NORMS
from irestore.nn.skips import SKIPS


@dataclass(frozen=True)
class ModelConfig:
    """A U-shaped encoder-decoder: ``len(enc_blocks)`` levels, each halving resolution and doubling width.

    ``heads`` has one entry per level plus one for the middle. ``scale`` > 1 adds a pixel-shuffle
    upsampling head (super-resolution); otherwise the output is the input plus a learned residual.
    ``gate`` is the conv mixer's multiplicative gate (``product``: NAFNet's SimpleGate; ``sigmoid``:
    bounded in one factor, so a far-out input grows linearly, not quadratically, per block).
    """

    width: int = 16
    enc_blocks: tuple[int, ...] = (1, 1, 1)
    mid_blocks: int = 2
    dec_blocks: tuple[int, ...] = (1, 1, 1)
    heads: tuple[int, ...] = (1, 1, 2, 4)
    expansion: float = 2.0
    norm: str = "iln"
    placement: str = "pre"
    mixer: str = "conv"
    gate: str = "product"
    skip: str = "1"
    kappa: float = 0.5
    in_channels: int = 3
    out_channels: int = 3
    scale: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "enc_blocks", tuple(self.enc_blocks))
        object.__setattr__(self, "dec_blocks", tuple(self.dec_blocks))
        object.__setattr__(self, "heads", tuple(self.heads))
        checks = [
            (self.norm in NORMS, f"norm {self.norm!r} (choose {', '.join(NORMS)})"),
            (self.mixer in MIXERS, f"mixer {self.mixer!r} (choose {', '.join(MIXERS)})"),
            (self.gate in GATES, f"gate {self.gate!r} (choose {', '.join(GATES)})"),
            (self.placement in PLACEMENTS, f"placement {self.placement!r} (choose {', '.join(PLACEMENTS)})"),
            (self.skip in SKIPS, f"skip {self.skip!r} (choose {', '.join(SKIPS)})"),
            (len(self.dec_blocks) == len(self.enc_blocks), "dec_blocks must have as many levels as enc_blocks"),
            (len(self.heads) == len(self.enc_blocks) + 1, "heads needs one entry per level plus the middle"),
            (self.scale in (1, 2, 3, 4, 8), f"scale {self.scale} (choose 1, 2, 3, 4 or 8)"),
            (0.0 < self.kappa <= 1.0, f"kappa {self.kappa} must lie in (0, 1]"),
        ]
        for widths_ok, what in [(all(self.width * 2**i % h == 0 for i, h in enumerate(self.heads)), "heads must divide the width of their level")]:
            checks.append((widths_ok, what))
        bad = [what for ok, what in checks if not ok]
        if bad:
            raise ConfigError("invalid model config: " + "; ".join(bad))

    @property
    def levels(self) -> int:
        return len(self.enc_blocks)

    @property
    def multiple(self) -> int:
        """Input height and width must be a multiple of this (one halving per level)."""
        return 2**self.levels

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown model config keys: {', '.join(sorted(unknown))}")
        return cls(**data)

    def replace(self, **overrides) -> "ModelConfig":
        data = self.to_dict()
        data.update(overrides)
        return ModelConfig.from_dict(data)
