"""Exponential moving average of the weights: the copy that is validated and released.

The decay is warmed up as ``min(decay, (1 + n) / (10 + n))`` after ``n`` updates (TensorFlow's
``num_updates`` rule): a short CPU run of a few thousand steps would otherwise release an average
still dominated by the random initialisation.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        live = model.state_dict()
        for name, avg in self.model.state_dict().items():
            if avg.dtype.is_floating_point:
                avg.lerp_(live[name].detach(), 1.0 - d)
            else:
                avg.copy_(live[name])

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = int(state["updates"])
