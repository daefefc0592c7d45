"""What every workload shares: the figure it reports, waiting for work to finish, percentiles."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

#: How often a workload looks whether its work has finished: one query per look.
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Figure:
    """One measured number, with what it is compared with.

    ``value`` is None when the workload did not finish in time; ``details`` then says how far
    it got. ``peer_value`` is the same figure measured on DBOS Transact, when it was."""

    workload: str
    title: str
    metric: str
    value: float | None
    better: str  # "higher" or "lower"
    target: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    peer_value: float | None = None
    peer_details: dict[str, Any] = field(default_factory=dict)

    @property
    def meets_target(self) -> bool | None:
        if self.target is None or self.value is None:
            return None
        return self.value >= self.target if self.better == "higher" else self.value <= self.target

    @property
    def ratio(self) -> float | None:
        """Perdura / DBOS, as is: above 1 is better for a higher-is-better figure, worse otherwise."""
        if self.value is None or not self.peer_value:
            return None
        return self.value / self.peer_value

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "title": self.title,
            "metric": self.metric,
            "value": self.value,
            "better": self.better,
            "target": self.target,
            "meets_target": self.meets_target,
            "peer_value": self.peer_value,
            "ratio": self.ratio,
            "details": self.details,
            "peer_details": self.peer_details,
        }


class TimedOut(Exception):
    """The work did not finish within the workload's time limit."""


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``condition`` every POLL_SECONDS; return the ``perf_counter`` time at which it held."""
    deadline = time.perf_counter() + timeout
    while True:
        if condition():
            return time.perf_counter()
        if time.perf_counter() >= deadline:
            raise TimedOut(f"{what} did not happen within {timeout:g} s")
        time.sleep(POLL_SECONDS)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``fraction`` of them at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
