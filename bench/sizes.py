"""The workloads and their sizes, full and quick (no Django here: the runner reads them before setting it up)."""

from __future__ import annotations

from dataclasses import dataclass

WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "Q1", "T1", "H1", "O1")
#: The workloads that need workers; W5 only reads, and H1's HTTP functions run in its web server.
ENGINE_WORKLOADS = ("W1", "W2", "W3", "W4", "Q1")


@dataclass(frozen=True)
class Sizes:
    w1_instances: int
    w2_steps: int
    w2_repetitions: int
    w3_activities: int
    w4_signals: int
    w5_instances: int
    w5_history_events: int
    w5_repetitions: int
    #: How long one workload may take before it is reported as not finished.
    timeout: float
    q1_messages: int = 10_000
    #: T1: timers every second, for this long.
    t1_timers: int = 20
    t1_seconds: float = 60
    #: H1's measured seconds per target, after its warm-up seconds.
    h1_seconds: float = 10.0
    h1_warmup_seconds: float = 2.0


FULL = Sizes(
    w1_instances=1000,
    w2_steps=100,
    w2_repetitions=3,
    w3_activities=1000,
    w4_signals=10_000,
    w5_instances=1_000_000,
    w5_history_events=10_000,
    w5_repetitions=10,
    timeout=600,
)
QUICK = Sizes(
    w1_instances=200,
    w2_steps=100,
    w2_repetitions=1,
    w3_activities=200,
    w4_signals=2000,
    w5_instances=100_000,
    w5_history_events=10_000,
    w5_repetitions=5,
    timeout=60,
    q1_messages=2000,
    t1_seconds=20,
    h1_seconds=3.0,
    h1_warmup_seconds=1.0,
)
