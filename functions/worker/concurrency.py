"""Per-function concurrency limits (``max_concurrency=`` on a trigger or an activity) for the
runtimes that run functions: the queue consumer, the timer and the HTTP server. Activities
are limited by the activity worker itself (orchestrations/store/claims.py).

How a runtime uses it: take slots before running, one per run it means to start now, and
hold them while the runs go on::

    with concurrency.slots(function, wanted=len(messages), holder=worker_id) as slots:
        # Run slots.granted of them; hand the others back for later (see below).
        for message in messages[: slots.granted]:
            invoked = call(function, ...)
            slots.release_one()  # Free as soon as this run ends, for other workers.

- A function without ``max_concurrency`` is granted everything it asks for, at no cost: no
  statement is sent.
- Ask only for what can run at once. A worker loop that runs its batch one at a time can
  use one slot at a time (``wanted=1``); asking for more holds slots that nobody uses.
- What is not granted is not a failure. The queue consumer hands those messages back,
  visible again at ``slots.free_at``, and such a hand-back must not count toward the poison
  limit (undo its dequeue); the timer leaves the occurrence unclaimed and tries again at its
  next pass; the HTTP server answers 429 with Retry-After (seconds until ``free_at``), as
  Azure does when a host is at its limit. The activity worker does the same with work
  items (orchestrations/store/claims.py, ``_within_limits``): read it as the example.
- ``holder`` names who holds the slots: the worker id (host:pid:thread) of a worker loop;
  where one thread runs several at once (the HTTP server), the worker id and the invocation
  id, so that each request releases only its own.
- Slots are leased: while the ``with`` block runs, the process's lease renewer extends
  them, and if the process dies they come back when the lease ends (PERDURA_LEASE_SECONDS).
  Leaving the block releases whatever is still held, also on an exception.
- Taking and releasing slots are (short) database statements: async code calls them through
  ``sync_to_async``, as it does every other storage call.
- Slots are counted per function name: a trigger function and an activity under one name
  would share them.
"""

from __future__ import annotations

from datetime import datetime

from functions.registry import RegisteredFunction
from functions.store.concurrency import acquire_slots, release_slots, renew_slots
from orchestrations.worker.renewer import LeaseRenewer


class Slots:
    """Slots of one function held by one holder (made by ``slots``)."""

    def __init__(self, function: RegisteredFunction, wanted: int, holder: str) -> None:
        self.function_name = function.name
        self.limit = function.max_concurrency
        self.holder = holder
        self.numbers: list[int] = []
        #: When fewer were granted than wanted: when a held slot frees up at the latest.
        self.free_at: datetime | None = None
        self._unlimited_runs = 0
        if self.limit is None:
            self._unlimited_runs = max(wanted, 0)
        else:
            acquired = acquire_slots(self.function_name, self.limit, wanted, holder)
            self.numbers, self.free_at = acquired.numbers, acquired.free_at

    @property
    def granted(self) -> int:
        """How many runs may start now (still held: each ``release_one`` takes one off)."""
        return len(self.numbers) if self.limit is not None else self._unlimited_runs

    def release_one(self) -> None:
        """One run has ended: free its slot for other runs."""
        if self.limit is None:
            self._unlimited_runs = max(self._unlimited_runs - 1, 0)
        elif self.numbers:
            release_slots(self.function_name, [self.numbers.pop()], self.holder)

    def release(self) -> None:
        """Free every slot still held."""
        if self.limit is None:
            self._unlimited_runs = 0
        elif self.numbers:
            numbers, self.numbers = self.numbers, []
            release_slots(self.function_name, numbers, self.holder)

    def renew(self) -> None:
        """Extend the leases of the slots still held (the lease renewer calls it)."""
        renew_slots(self.function_name, list(self.numbers), self.holder)

    def __enter__(self) -> Slots:
        if self.numbers:
            LeaseRenewer.get().hold(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.limit is not None:
            LeaseRenewer.get().release(self)
        self.release()

    def __repr__(self) -> str:
        return f"<{len(self.numbers)} slots of {self.function_name} held by {self.holder}>"


def slots(function: RegisteredFunction, *, wanted: int, holder: str) -> Slots:
    """Take up to ``wanted`` of ``function``'s slots for ``holder`` (all ``wanted`` when the
    function has no limit); use the result in a ``with`` block, as the module says."""
    return Slots(function, wanted, holder)
