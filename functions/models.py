from __future__ import annotations

import uuid

from django.db import models

from orchestrations.engine.limits import MAX_INSTANCE_ID_LENGTH, MAX_NAME_LENGTH


class AppRecord(models.Model):
    """A function app as last seen in the registry (the SDK's FunctionApp is what code declares)."""

    name = models.CharField(max_length=MAX_NAME_LENGTH, unique=True)
    modules = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Function(models.Model):
    class Kind(models.TextChoices):
        ORCHESTRATOR = "orchestrator"
        ACTIVITY = "activity"
        ENTITY = "entity"
        HTTP = "http"
        TIMER = "timer"
        QUEUE = "queue"

    app = models.ForeignKey(AppRecord, on_delete=models.CASCADE, related_name="functions")
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    module = models.CharField(max_length=300, blank=True)
    is_registered = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="function_kind_name_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


def new_invocation_id() -> str:
    return str(uuid.uuid4())


class Invocation(models.Model):
    """One run of a function: an activity (at least one per scheduled call, more if a worker
    died mid-run), an HTTP request, a timer occurrence, a queue message, or a run by hand."""

    class Status(models.TextChoices):
        RUNNING = "Running"
        COMPLETED = "Completed"
        FAILED = "Failed"
        ABANDONED = "Abandoned"

    class Trigger(models.TextChoices):
        ACTIVITY = "activity"
        HTTP = "http"
        TIMER = "timer"
        QUEUE = "queue"
        MANUAL = "manual"

    invocation_id = models.CharField(max_length=36, default=new_invocation_id, unique=True)
    function_name = models.CharField(max_length=MAX_NAME_LENGTH)
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.ACTIVITY)
    #: For activities: the orchestration and its call. Blank for the other triggers.
    instance_id = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH, blank=True, default="")
    task_id = models.IntegerField(null=True, blank=True)
    work_item_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    #: The HTTP status code answered, for HTTP functions.
    status_code = models.IntegerField(null=True, blank=True)
    attempt = models.IntegerField(default=1)
    worker = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    input = models.TextField(null=True, blank=True)
    output = models.TextField(null=True, blank=True)
    error_type = models.CharField(max_length=300, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    logs = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["instance_id", "task_id"]),
            models.Index(fields=["work_item_id"]),
            models.Index(fields=["function_name", "-started_at"]),
            models.Index(fields=["-started_at"]),
        ]

    def __str__(self) -> str:
        if self.trigger == self.Trigger.ACTIVITY:
            return f"{self.function_name} for {self.instance_id}#{self.task_id} ({self.status})"
        return f"{self.function_name} by {self.trigger} ({self.status})"

    @property
    def duration(self):
        return self.ended_at - self.started_at if self.ended_at else None


class QueuedMessage(models.Model):
    """A message on a durable queue. Claiming one makes it invisible until ``visible_at`` (the
    visibility timeout) and counts a dequeue; finishing deletes it; a failure or a dead worker
    leaves it to come back. Past ``max_dequeue_count`` it moves to ``<queue>-poison``."""

    message_id = models.CharField(max_length=36, default=new_invocation_id, unique=True)
    queue = models.CharField(max_length=63)
    body = models.TextField()
    inserted_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    visible_at = models.DateTimeField()
    dequeue_count = models.IntegerField(default=0)
    #: Who holds it now (a worker id), changed on every claim as Azure's pop receipt is.
    pop_receipt = models.CharField(max_length=200, blank=True)
    #: Why it was last given back or moved to the poison queue.
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["queue", "visible_at"]),
            models.Index(fields=["expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} on {self.queue}"


class TimerSchedule(models.Model):
    """A timer function's schedule: the next occurrence to run, claimed by moving ``next_due``
    forward in one conditional UPDATE, so that exactly one worker runs each occurrence."""

    function_name = models.CharField(max_length=MAX_NAME_LENGTH, unique=True)
    schedule = models.CharField(max_length=200)
    next_due = models.DateTimeField(null=True, blank=True)
    is_paused = models.BooleanField(default=False)
    #: An operator asked for a run now: the next sweep runs it once, off schedule.
    run_requested_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=20, blank=True)
    #: When a worker start last asked for a ``run_on_startup`` run: starts within a short window
    #: of it share that one run.
    startup_run_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["function_name"]

    def __str__(self) -> str:
        return f"{self.function_name} ({self.schedule})"


class TimerClaim(models.Model):
    """An occurrence a worker claimed and has not yet recorded as run. It is written in the
    transaction that moved the schedule's ``next_due`` past it and deleted in the one that
    writes its invocation, so a worker that dies in between leaves it here, and another worker
    runs it once ``lease_until`` has passed."""

    function_name = models.CharField(max_length=MAX_NAME_LENGTH)
    #: The occurrence (for a run asked for by an operator or a worker start: when it was asked).
    scheduled_at = models.DateTimeField()
    #: The run stands for occurrences missed while no worker ran (``TimerRequest.past_due``).
    past_due = models.BooleanField(default=False)
    #: Asked for (run now, run on startup) rather than scheduled.
    requested = models.BooleanField(default=False)
    claimed_by = models.CharField(max_length=200)
    lease_until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["function_name", "scheduled_at", "requested"], name="timer_claim_occurrence_unique"
            ),
        ]
        indexes = [models.Index(fields=["lease_until"])]

    def __str__(self) -> str:
        return f"{self.function_name} at {self.scheduled_at:%Y-%m-%d %H:%M:%S} by {self.claimed_by}"


class FunctionKey(models.Model):
    """A key for HTTP functions of auth level ``function``: for one function, or for every
    function (a host key, ``function_name`` blank). Only a hash is stored."""

    name = models.CharField(max_length=100)
    function_name = models.CharField(max_length=MAX_NAME_LENGTH, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=128)
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["function_name", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.function_name or 'host'})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ConcurrencySlot(models.Model):
    """One of a function's ``max_concurrency`` slots; a run holds one, with a lease that
    expires if its worker dies, so the limit holds across every worker process."""

    function_name = models.CharField(max_length=MAX_NAME_LENGTH)
    number = models.IntegerField()
    holder = models.CharField(max_length=200, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["function_name", "number"], name="concurrency_slot_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.function_name} slot {self.number}"


class FunctionTally(models.Model):
    """How many orchestration episodes or entity batches a function ran in one minute: these
    are counted, not recorded one row each, so that counting never slows the engine."""

    function_name = models.CharField(max_length=MAX_NAME_LENGTH)
    kind = models.CharField(max_length=20)
    minute = models.DateTimeField()
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["function_name", "kind", "minute"], name="function_tally_unique"),
        ]
        indexes = [models.Index(fields=["minute"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.function_name} at {self.minute:%H:%M}: {self.count}"
