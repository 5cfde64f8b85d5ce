"""Wall-clock timing of several callables against each other (benchmarks' latency numbers)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Hashable

import numpy as np


def time_in_turns(calls: dict[Hashable, Callable[[], object]], runs: int, warmup: int = 5) -> dict:
    """Milliseconds per call, `runs` of them for each entry. The entries take turns, so clock or load
    drift hits them alike; the first `warmup` rounds are run and dropped."""
    times: dict = {k: [] for k in calls}
    for i in range(runs + warmup):
        for k, call in calls.items():
            t = time.perf_counter()
            call()
            if i >= warmup:
                times[k].append((time.perf_counter() - t) * 1000)
    return times


def median_p90(times_ms: list[float]) -> tuple[float, float]:
    """The two numbers a latency table reports, rounded to 0.01 ms."""
    return round(statistics.median(times_ms), 2), round(float(np.percentile(times_ms, 90)), 2)
