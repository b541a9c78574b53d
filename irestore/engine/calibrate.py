"""How many statistics passes a model needs for tiles to look like the whole image.

Passes cost time: tiling with two statistics passes runs the model three times over the image.
Whether they buy anything visible depends on the model. For the released LN/conv-mixer networks the
only whole-image reductions are the channel-attention pools, which a large tile estimates well
(56.6 dB agreement on a 4 MP photo with no extra pass, far above the ~45 dB anyone can see), while
an i-LN network needs them. So each release is calibrated once on real photos at the engine's
default tile, and runs with the fewest passes that keep every photo at or above ``floor_db``.
"""

from __future__ import annotations

import math

import numpy as np
from torch import nn

from irestore.engine.restorer import Restorer

AGREEMENT_FLOOR_DB = 50.0
EXACT_PASSES = 2


def agreement_db(tiled: np.ndarray, whole: np.ndarray) -> float:
    """PSNR (peak 1) of a tiled output against the whole-image output."""
    mse = float(np.mean((tiled.astype(np.float64) - whole) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(1 / mse)


def calibrate_passes(model: nn.Module, images: list[np.ndarray], *, floor_db: float = AGREEMENT_FLOOR_DB, memory_mb: float | None = None) -> dict:
    """Agreement of 0..EXACT_PASSES statistics passes with the whole image at the default tile.

    Returns the record the manifest keeps: the chosen ``stats_passes``, the worst agreement over
    ``images`` per number of passes, and the tiles used.
    """
    options = {} if memory_mb is None else {"memory_mb": memory_mb}
    whole = Restorer(model, tile=0)
    worst = {p: math.inf for p in range(EXACT_PASSES + 1)}
    tiles = []
    for img in images:
        reference = whole(img)
        tile = Restorer(model, **options).tile_for(*img.shape[:2])
        if tile == 0:
            raise ValueError(f"a {img.shape[1]}x{img.shape[0]} image runs whole at the default budget: calibrate on larger images")
        tiles.append(tile)
        for passes in worst:
            tiled = Restorer(model, tile=tile, stats_passes=passes, **options)(img)
            worst[passes] = min(worst[passes], agreement_db(tiled, reference))
    chosen = next((p for p in sorted(worst) if worst[p] >= floor_db), EXACT_PASSES)
    return {
        "stats_passes": chosen,
        "floor_db": floor_db,
        "agreement_db": {str(p): round(v, 2) for p, v in worst.items()},
        "tiles": tiles,
        "images": [f"{img.shape[1]}x{img.shape[0]}" for img in images],
    }
