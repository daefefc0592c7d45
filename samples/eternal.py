"""Eternal orchestration: a periodic job that restarts itself with ``continue_as_new``.

``session_cleanup`` purges expired sessions, sleeps on a durable timer and then continues as
a new execution with its running total as the new input. Each execution starts with a fresh
history, so the instance can run for ever without its history growing. ``cycles`` in the
input stops it after that many runs (leave it out to run for ever).
"""

from __future__ import annotations

from datetime import timedelta

from functions import FunctionApp

app = FunctionApp("session_cleanup")


@app.activity
def purge_expired_sessions(cycle: int) -> int:
    """Delete expired sessions; return how many went. The simulation purges ``cycle`` sessions
    on cycle number ``cycle``, so the totals are predictable."""
    return cycle


@app.orchestrator
def session_cleanup(ctx):
    """Input: ``{"interval_seconds": 3600, "cycles": null}``; ``cycle`` and ``purged`` are
    carried from one execution to the next."""
    state = ctx.get_input()
    cycle = state.get("cycle", 1)
    purged = state.get("purged", 0) + (yield ctx.call_activity("purge_expired_sessions", cycle))
    ctx.set_custom_status({"cycle": cycle, "purged": purged})

    if state.get("cycles") is not None and cycle >= state["cycles"]:
        return {"cycles": cycle, "purged": purged}

    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=state["interval_seconds"]))
    ctx.continue_as_new({**state, "cycle": cycle + 1, "purged": purged})
