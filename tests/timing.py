"""Clock checks that hold on a busy machine (2 cores shared by many processes) without proving less.

A fixed wall-clock margin ("under 3.5 s") is either loose enough to prove little or tight enough to
fail whenever another process takes the CPU. Instead:

- a bound is what the code under test is configured to wait (its timeouts, its deadline) plus a
  multiple of a *baseline*: the same kind of operation, healthy, timed in the same test, so the
  allowance for overhead grows and shrinks with the machine's load at that moment;
- "takes the same time" is judged on the median over several alternating samples, not on one pair.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Overhead allowed on top of the configured waits, in baselines. A healthy request of the same kind
# is the unit; a handful of them covers the extra work of the failing path (an error rendered, a
# connection closed and reopened) and the scheduler's hiccups on a loaded machine.
OVERHEAD_FACTOR = 5
# The smallest baseline used: a request timed at 3 ms on an idle moment says little about the next.
MIN_BASELINE = 0.1


def timed(fn: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, float]:
    """(fn's result, seconds it took)."""
    started = time.monotonic()
    result = fn(*args, **kwargs)
    return result, time.monotonic() - started


def baseline(fn: Callable[[], Any], *, samples: int = 3) -> float:
    """The median time of ``samples`` calls of a healthy operation, at least MIN_BASELINE."""
    return max(statistics.median(timed(fn)[1] for _ in range(samples)), MIN_BASELINE)


def bound(*, waits: float, base: float, factor: float = OVERHEAD_FACTOR) -> float:
    """The most an operation may take: what it is configured to wait, plus ``factor`` baselines."""
    return waits + factor * base


def assert_within(
    elapsed: float, *, waits: float, base: float, factor: float = OVERHEAD_FACTOR, what: Any = ""
) -> None:
    limit = bound(waits=waits, base=base, factor=factor)
    assert elapsed < limit, f"{what}: {elapsed:.3f} s, over {waits} s of waits + {factor} x {base:.3f} s baseline"


def alternating_samples(
    a: Callable[[], Any], b: Callable[[], Any], *, samples: int = 5
) -> tuple[list[float], list[float]]:
    """Times of ``a`` and ``b`` called in turn (a, b, a, b, ...), so load that comes and goes during
    the test falls on both alike."""
    times_a: list[float] = []
    times_b: list[float] = []
    for _ in range(samples):
        times_a.append(timed(a)[1])
        times_b.append(timed(b)[1])
    return times_a, times_b


def median_gap(times_a: list[float], times_b: list[float]) -> float:
    """|median(a) - median(b)|: how far apart two operations' typical times are."""
    return abs(statistics.median(times_a) - statistics.median(times_b))
