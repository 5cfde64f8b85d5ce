"""An exponential moving average of the weights (and BN statistics), kept beside the trained model.

With a few hundred faces the last weights of a run are noisy; the average of the last few hundred
steps usually scores better and costs one extra copy of the model. `--ema 0.995` turns it on.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from lmk.checkpoint import float_state


class WeightEMA:
    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.steps = 0
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Average after an optimiser step. The decay ramps up ((1 + n) / (10 + n)) so the first
        steps do not drag the random-initialised start along for hundreds of steps."""
        self.steps += 1
        d = min(self.decay, (1 + self.steps) / (10 + self.steps))
        for mine, theirs in zip(self.model.state_dict().values(), model.state_dict().values(), strict=True):
            if mine.is_floating_point():
                mine.mul_(d).add_(theirs.detach(), alpha=1 - d)
            else:
                mine.copy_(theirs)

    def state_dict(self) -> dict:
        return {"steps": self.steps, "state_dict": self.model.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.steps = int(state["steps"])
        self.model.load_state_dict(float_state(state["state_dict"]))
