"""NME, FR@0.1, AUC@0.1 and CED exactly as PROTOCOL.md defines them. numpy (+ scipy's Simpson)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from lmk.schemes import SCHEMES, WFLW_ATTRIBUTES, attribute_flags


def normalizing_distance(gt: np.ndarray, scheme: str) -> np.ndarray:
    """Inter-ocular distance (outer eye corners) per face; gt is (F, N, 2)."""
    a, b = SCHEMES[scheme].norm_points
    gt = np.asarray(gt, dtype=np.float64)
    return np.linalg.norm(gt[:, a] - gt[:, b], axis=-1)


def nme_per_face(pred: np.ndarray, gt: np.ndarray, scheme: str) -> np.ndarray:
    """NME_i = mean_j ||pred_ij - gt_ij|| / d_i, as a fraction (not %)."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[-1] != 2:
        raise ValueError(f"pred {pred.shape} and gt {gt.shape} must both be (faces, points, 2)")
    d = normalizing_distance(gt, scheme)
    if np.any(d <= 0):
        raise ValueError("zero inter-ocular distance in ground truth")
    return np.linalg.norm(pred - gt, axis=-1).mean(axis=1) / d


CED_X = np.linspace(0.0, 0.1, 1001)


def ced(nme_i: np.ndarray, thresholds: np.ndarray = CED_X) -> np.ndarray:
    """Cumulative error distribution: share of faces with NME_i <= x."""
    nme_i = np.sort(np.asarray(nme_i, dtype=np.float64))
    return np.searchsorted(nme_i, thresholds, side="right") / max(len(nme_i), 1)


def auc(nme_i: np.ndarray, limit: float = 0.1) -> float:
    """Area under the CED on [0, limit] (1,001 points), Simpson's rule, divided by limit."""
    from scipy.integrate import simpson

    x = np.linspace(0.0, limit, 1001)
    return float(simpson(ced(nme_i, x), x=x) / limit)


def failure_rate(nme_i: np.ndarray, limit: float = 0.1) -> float:
    """Share of faces with NME_i > limit (fraction)."""
    return float(np.mean(np.asarray(nme_i) > limit))


UNITS = {"nme": "%", "fr": "%", "auc": "0..1"}  # of Scores' fields, written beside them in every JSON


@dataclass
class Scores:
    """Percent NME / FR and AUC in 0..1, with the face count behind them."""

    nme: float
    fr: float
    auc: float
    faces: int

    def as_dict(self) -> dict:
        return asdict(self)

    def as_metrics(self, dataset: str, reference_nme: float | None = None) -> dict:
        """The `metrics` block of a model file (../shared/ARTIFACT.md): one definition for every
        writer (training, ship, export parity, int8), so the keys cannot drift apart."""
        out = {"dataset": dataset, **self.as_dict(), "flip_test": False}
        if reference_nme is not None:
            out["delta_nme"] = self.nme - reference_nme
        out["units"] = dict(UNITS)
        return out


def score(nme_i: np.ndarray) -> Scores:
    nme_i = np.asarray(nme_i, dtype=np.float64)
    return Scores(
        nme=float(100 * nme_i.mean()), fr=float(100 * failure_rate(nme_i)), auc=auc(nme_i), faces=int(len(nme_i))
    )


def score_subsets(nme_i: np.ndarray, attributes: list[dict[str, int]]) -> dict[str, Scores]:
    """'all'; 'hard' (faces with any attribute flag) when it is neither none nor all of them, since a
    random validation split mixes both while the WFLW test split holds only hard faces; then one
    entry per WFLW attribute flag that at least one face carries."""
    nme_i = np.asarray(nme_i, dtype=np.float64)
    out = {"all": score(nme_i)}
    flags = np.array([attribute_flags(a) for a in attributes], dtype=bool).reshape(
        len(attributes), len(WFLW_ATTRIBUTES)
    )
    hard = flags.any(axis=1)
    if 0 < hard.sum() < len(hard):
        out["hard"] = score(nme_i[hard])
    for name, mask in zip(WFLW_ATTRIBUTES, flags.T):
        if mask.any():
            out[name] = score(nme_i[mask])
    return out


def auroc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve of `score` for telling positives from negatives (the Mann-Whitney
    U statistic, ties counted half): 1 when every positive scores above every negative, 0.5 for a
    score that knows nothing."""
    from scipy.stats import rankdata

    positive = np.asarray(positive, dtype=bool)
    n1, n0 = int(positive.sum()), int((~positive).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError("AUROC needs both positives and negatives")
    ranks = rankdata(np.asarray(score, dtype=np.float64))
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
