"""Parity checks after every export step (in the spirit of timm's `check_forward`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmk.artifact import InputSpec
from lmk.data.records import FaceRecord
from lmk.evaluation import score_runner
from lmk.metrics import Scores
from lmk.predict import Runner, iter_inputs


class ParityError(RuntimeError):
    pass


@dataclass
class Parity:
    max_abs_diff: float  # in crop_normalized units (fraction of the crop side)
    scores: Scores  # NME / FR / AUC of the runner over the whole split

    def as_metrics(self, dataset: str, reference_nme: float) -> dict:
        out = self.scores.as_metrics(dataset, reference_nme)
        out["max_abs_diff"] = self.max_abs_diff
        out["units"]["max_abs_diff"] = "fraction of crop side"
        return out


def crops(records: list[FaceRecord], spec: InputSpec, n: int) -> np.ndarray:
    """The first n real face crops, exactly as the model sees them."""
    return np.stack([x for x, _ in iter_inputs(records[:n], spec)])


def measure(
    runner: Runner, records: list[FaceRecord], spec: InputSpec, reference_out: np.ndarray, inputs: np.ndarray
) -> Parity:
    """Max abs diff on `inputs` against `reference_out`, and NME/FR/AUC over `records`."""
    diff = float(np.abs(np.asarray(runner(inputs)) - reference_out).max())
    return Parity(diff, score_runner(records, runner, spec))
