"""Running the workloads, once Django is set up on the bench database and workers are running.

``__main__`` prepares the environment (databases, settings, workers) and calls these; the
smoke test calls them inside a test, with the test's own workers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from bench import (
    dbos_peer,
    h1_http_hello,
    q1_queue_messages,
    t1_timers,
    w1_hello_sequence,
    w2_chain,
    w3_fan_out_fan_in,
    w4_counter_storm,
    w5_console_scale,
)
from bench.measure import Figure
from bench.sizes import ENGINE_WORKLOADS, Sizes


def run_engine_workloads(
    workloads: list[str],
    sizes: Sizes,
    *,
    embedded: bool,
    progress: Callable[[str], None] = print,
    worker_processes: int | None = None,
    pool: str = "prefork",
) -> list[Figure]:
    """Run the selected W1-W4 and Q1, one after another, on the workers already running
    (``worker_processes`` of them with ``pool``, or the in-process ones when None)."""
    runs: dict[str, Callable[[], list[Figure]]] = {
        "W1": lambda: w1_hello_sequence.run(sizes.w1_instances, timeout=sizes.timeout, embedded=embedded),
        "W2": lambda: w2_chain.run(sizes.w2_steps, repetitions=sizes.w2_repetitions, timeout=sizes.timeout),
        "W3": lambda: w3_fan_out_fan_in.run(sizes.w3_activities, timeout=sizes.timeout),
        "W4": lambda: w4_counter_storm.run(sizes.w4_signals, timeout=sizes.timeout),
        "Q1": lambda: q1_queue_messages.run(
            sizes.q1_messages, timeout=sizes.timeout, worker_processes=worker_processes, pool=pool
        ),
    }
    figures = []
    for workload in ENGINE_WORKLOADS:
        if workload in workloads:
            progress(f"{workload} ...")
            measured = runs[workload]()
            progress(_summary(measured))
            figures += measured
    return figures


def run_console_scale(sizes: Sizes, *, progress: Callable[[str], None] = print) -> list[Figure]:
    progress(f"W5 ... (loading {sizes.w5_instances:,} instances)")
    figures = w5_console_scale.run(
        sizes.w5_instances, history_events=sizes.w5_history_events, repetitions=sizes.w5_repetitions
    )
    progress(_summary(figures))
    return figures


def run_timers(
    sizes: Sizes, *, embedded: bool, workers: int, pool: str, scratch: Path, progress: Callable[[str], None] = print
) -> list[Figure]:
    """T1, on worker processes of its own (it kills one)."""
    progress(f"T1 ... ({sizes.t1_timers} timers every second for {sizes.t1_seconds:g} s, one worker killed midway)")
    figures = t1_timers.run(
        sizes.t1_timers,
        sizes.t1_seconds,
        embedded=embedded,
        workers=workers,
        pool=pool,
        scratch=scratch,
        timeout=sizes.timeout,
    )
    progress(_summary(figures))
    return figures


def run_http_hello(sizes: Sizes, *, progress: Callable[[str], None] = print) -> list[Figure]:
    """H1: needs no workers; it starts a web server of its own."""
    progress("H1 ...")
    figures = h1_http_hello.run(sizes.h1_seconds, warmup_seconds=sizes.h1_warmup_seconds, timeout=sizes.timeout)
    progress(_summary(figures))
    return figures


def add_peer_figures(
    figures: list[Figure], sizes: Sizes, *, database_url: str, progress: Callable[[str], None] = print
) -> list[Figure]:
    """Run W1-W3 on DBOS for every one of them that Perdura ran, and set their peer values."""
    peer_sizes = {
        "W1": (sizes.w1_instances, 1),
        "W2": (sizes.w2_steps, sizes.w2_repetitions),
        "W3": (sizes.w3_activities, 1),
    }
    results = {}
    for workload in dbos_peer.METRICS:
        if any(figure.workload == workload for figure in figures):
            progress(f"{workload} on DBOS ...")
            size, repetitions = peer_sizes[workload]
            results[workload] = dbos_peer.run_peer(
                workload, size, repetitions=repetitions, database_url=database_url, timeout=sizes.timeout
            )
            progress(f"  {results[workload].get('error') or results[workload]['figures']}")
    updated = []
    for figure in figures:
        result = results.get(figure.workload)
        if result is not None:
            figure = dataclasses.replace(
                figure,
                peer_value=result.get("figures", {}).get(figure.metric),
                peer_details={key: value for key, value in result.items() if key != "figures"},
            )
        updated.append(figure)
    return updated


def _summary(figures: list[Figure]) -> str:
    parts = []
    for figure in figures:
        value = "not measured: " + str(figure.details.get("error")) if figure.value is None else f"{figure.value:.2f}"
        parts.append(f"  {figure.metric}: {value}")
    if figures and figures[0].details:
        parts.append(f"  {figures[0].details}")
    return "\n".join(parts)
