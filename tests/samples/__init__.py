"""End-to-end tests of the sample function apps."""

from __future__ import annotations

#: How long an end-to-end test waits for an instance to finish. Embedded runs take 1-3 s; the
#: bound is generous because CI's Celery mode starts real worker processes for each test,
#: which takes several seconds on a loaded 2-core machine.
COMPLETION_TIMEOUT = 30


def run_to_end(instance_id: str, timeout: float = 15.0):
    """Run the work in this process (drain_all) until the instance ends, durable timers
    included; the instance."""
    import time

    from orchestrations import services
    from orchestrations.engine.status import TERMINAL_STATUSES
    from orchestrations.worker.loop import drain_all

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drain_all()
        instance = services.get(instance_id)
        if instance.runtime_status in TERMINAL_STATUSES:
            return instance
        time.sleep(0.02)
    raise AssertionError(f"{instance_id} is still {services.get(instance_id).runtime_status}")


def output_of(instance_id: str):
    """The output of the instance, run to its end in this process; it must complete."""
    import json

    instance = run_to_end(instance_id)
    assert instance.runtime_status == "Completed", instance.failure
    return json.loads(instance.output)
