"""Inference: tiling with whole-image statistics, self-ensemble, device and precision."""

from irestore.engine.restorer import Restorer, auto_tile

__all__ = ["Restorer", "auto_tile"]
