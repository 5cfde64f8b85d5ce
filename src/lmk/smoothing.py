"""The One-Euro filter (Casiez, Roussel and Vogel, "1 Euro Filter: A Simple Speed-based Low-pass
Filter for Noisy Input in Interactive Systems", CHI 2012) for landmark arrays. numpy only.

Why this filter: landmark noise is worst when a face holds still (the eye sees every wobble) and lag
is worst when it moves. The One-Euro filter is a first-order low-pass whose cutoff rises with the
signal's speed, so it smooths hard at rest and follows closely in motion, with two intuitive knobs.

Each step, for a sample x at time t (dt = t - t_prev seconds):

    alpha(fc)  = 1 / (1 + tau / dt),  tau = 1 / (2 pi fc)        (exact for any dt: variable fps)
    dx         = (x - x_hat_prev) / dt                            (speed, units per second)
    dx_hat     = dx_hat_prev + alpha(d_cutoff) (dx - dx_hat_prev)
    fc         = min_cutoff + beta * |dx_hat| / scale
    x_hat      = x_hat_prev + alpha(fc) (x - x_hat_prev)

Vectorised over points: x is (..., D), each row one point (D = 2 for image points); every point
gets its own cutoff from the norm of its own D-dimensional speed, so a still point stays smooth
while a moving one (an opening mouth) follows.

Motion compensation (optional, per step): given `motion`, a 2 x 3 affine matrix M = [A | b] that
maps the previous frame's pixel coordinates to the current frame's (the image motion of the face
between the two frames, e.g. `lmk.video.estimate_face_motion`), the state is first carried into
the current frame,

    x_hat_prev <- x_hat_prev A^T + b,   dx_hat_prev <- dx_hat_prev A^T

and the step above runs on the carried state. The filter then low-passes only what the motion
does not explain (the model's measurement against the motion-predicted points): a face moved
exactly by M is followed with no lag whatever the cutoff, and the speed that drives the cutoff is
the residual (non-rigid) speed, not the camera's. Without `motion` (None) the step is the plain
filter: this is the fallback whenever no trustworthy motion is available.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroParams:
    """The filter's three parameters. Cutoffs are in Hz (cycles per second of the timestamps given
    to the filter; feed frame numbers instead of seconds and they are cycles per frame: at 30 fps,
    1 Hz = 1/30 cycle per frame).

    min_cutoff (Hz): the cutoff at rest. Lower = less jitter on a still face, more lag on slow
        moves. The time constant at rest is 1 / (2 pi min_cutoff): 1 Hz -> 0.16 s.
    beta (1 / speed unit): how fast the cutoff rises with speed, fc = min_cutoff + beta * speed.
        Higher = less lag when the face moves, more jitter let through while it moves. With a
        `scale` given to the filter (the tracker gives the face size), speed is in face sizes per
        second, so beta is "Hz per (face size / s)" and one value serves faces of any pixel size;
        without one it is Hz per (pixel / s).
    d_cutoff (Hz): the low-pass on the speed estimate itself; 1 Hz as in the paper rarely needs
        changing (higher: the cutoff reacts sooner to a start of motion but also to noise).

    Tuning (the paper's recipe): set beta = 0, lower min_cutoff until a still face stops
    jittering; then raise beta until a moving face no longer lags. `benchmarks/video_jitter.py`
    does this by a grid on synthetic shaky clips (results in benchmarks/results/video_jitter.md).
    """

    min_cutoff: float = 1.0
    beta: float = 0.0
    d_cutoff: float = 1.0

    def __post_init__(self):
        if not (self.min_cutoff > 0 and self.d_cutoff > 0 and self.beta >= 0):
            raise ValueError(f"{self}: needs min_cutoff > 0, d_cutoff > 0, beta >= 0")


def smoothing_factor(cutoff, dt: float):
    """alpha of an exponential low-pass with cutoff `cutoff` Hz sampled `dt` s apart."""
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """One filter state for one landmark set (one face track); `reset()` when the track restarts
    (a new face, a re-detection) so that the filter never pulls towards a face that is gone."""

    def __init__(self, params: OneEuroParams | None = None):
        self.params = params or OneEuroParams()
        self.reset()

    def reset(self) -> None:
        self.x_hat: np.ndarray | None = None
        self.dx_hat: np.ndarray | None = None
        self.t: float | None = None

    def __call__(self, x, t: float, scale: float | None = None, motion=None) -> np.ndarray:
        """The filtered value of sample `x` (shape (..., D), the same every call) at time `t`
        (seconds, strictly increasing). `scale` (> 0, optional): divide speeds by it before beta
        applies (a face size, for scale-free parameters). `motion` (optional, D = 2 only): the
        2 x 3 affine map from the previous sample's frame to this one's; the state is carried by
        it before the step (module docstring). The first sample is returned as is (and `motion`
        ignored: there is no state to carry)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim == 0:
            raise ValueError("OneEuroFilter: x must have a last (coordinate) axis; pass shape (1,) for a scalar")
        if self.x_hat is None:
            self.x_hat, self.dx_hat, self.t = x.copy(), np.zeros_like(x), float(t)
            return self.x_hat.copy()
        if x.shape != self.x_hat.shape:
            raise ValueError(f"OneEuroFilter: sample shape {x.shape} differs from {self.x_hat.shape}; reset() first")
        dt = float(t) - self.t
        if not dt > 0:
            raise ValueError(f"OneEuroFilter: time must increase (t={t} after {self.t})")
        if motion is not None:
            self.x_hat, self.dx_hat = carry(self.x_hat, self.dx_hat, motion)
        p = self.params
        dx = (x - self.x_hat) / dt
        self.dx_hat = self.dx_hat + smoothing_factor(p.d_cutoff, dt) * (dx - self.dx_hat)
        speed = np.linalg.norm(self.dx_hat, axis=-1, keepdims=True)
        if scale is not None:
            if not scale > 0:
                raise ValueError(f"OneEuroFilter: scale must be > 0, got {scale}")
            speed = speed / float(scale)
        alpha = smoothing_factor(p.min_cutoff + p.beta * speed, dt)
        self.x_hat = self.x_hat + alpha * (x - self.x_hat)
        self.t = float(t)
        return self.x_hat.copy()


def carry(x_hat: np.ndarray, dx_hat: np.ndarray, motion) -> tuple[np.ndarray, np.ndarray]:
    """The filter state (points (..., 2), their speeds) moved by the 2 x 3 affine `motion`:
    points are mapped, speeds (vectors) turned and scaled by its linear part."""
    m = np.asarray(motion, dtype=np.float64)
    if m.shape != (2, 3) or not np.all(np.isfinite(m)):
        raise ValueError(f"motion must be a finite 2 x 3 affine matrix, got shape {m.shape}")
    if x_hat.shape[-1] != 2:
        raise ValueError(f"motion compensation needs 2-D points, got shape {x_hat.shape}")
    a = m[:, :2]
    return x_hat @ a.T + m[:, 2], dx_hat @ a.T


def smooth_sequence(
    points: np.ndarray,
    times: np.ndarray,
    params: OneEuroParams,
    scales: np.ndarray | None = None,
    motions=None,
) -> np.ndarray:
    """Filter a whole recorded track at once: points (T, ..., D), times (T,), scales (T,) or None,
    motions (T entries, each a 2 x 3 matrix from the previous frame or None) or None. The same
    steps as feeding the frames one by one (used to try many parameters on one run)."""
    f = OneEuroFilter(params)
    out = np.empty(np.shape(points), dtype=np.float64)
    for i, (x, t) in enumerate(zip(points, times)):
        scale = None if scales is None else float(scales[i])
        out[i] = f(x, float(t), scale, None if motions is None else motions[i])
    return out
