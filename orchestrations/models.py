"""Storage of orchestration state: instances, their history, their inbox, activity work."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from orchestrations.engine import HistoryEvent as EngineEvent
from orchestrations.engine import OrchestrationStatus
from orchestrations.engine.events import EventType
from orchestrations.engine.limits import (
    MAX_EVENT_NAME_LENGTH,
    MAX_INSTANCE_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_VERSION_LENGTH,
)

STATUS_CHOICES = [(status.value, status.value) for status in OrchestrationStatus]


class Claimable(models.Model):
    """What makes a row work that workers claim (an instance, an entity): when its inbox next
    has a message ready, who holds it and until when, and how its work has been failing."""

    #: The earliest ``visible_at`` of the inbox; NULL when nothing waits (for an instance
    #: while suspended, and an entity while locked: nothing they may take). Workers claim on
    #: this one column.
    next_message_at = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=200, null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    #: Work in a row that failed for its data (not a lost lease or a database briefly away),
    #: and the last error; at a bound it is given up (see worker/failures.py).
    failed_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    last_error = models.TextField(null=True, blank=True)

    class Meta:
        abstract = True


class Instance(Claimable):
    instance_id = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH, primary_key=True)
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    version = models.CharField(max_length=MAX_VERSION_LENGTH, blank=True, default="")
    #: Changes at every continue-as-new, restart and rewind-free restart, so that answers to
    #: calls of an earlier execution are recognised and dropped.
    execution_id = models.CharField(max_length=32)
    runtime_status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=OrchestrationStatus.PENDING)
    input = models.TextField(null=True, blank=True)
    output = models.TextField(null=True, blank=True)
    custom_status = models.TextField(null=True, blank=True)
    failure = models.JSONField(null=True, blank=True)
    parent_instance_id = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH, null=True, blank=True)
    parent_task_id = models.IntegerField(null=True, blank=True)
    #: The parent's execution that started this one: only it gets this instance's answer.
    parent_execution_id = models.CharField(max_length=32, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    history_length = models.IntegerField(default=0)
    #: The span that started the instance, as a W3C traceparent, when tracing (store/tracing.py).
    trace_parent = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "instance_id"]
        indexes = [
            models.Index(fields=["-created_at", "instance_id"], name="instance_created"),
            models.Index(fields=["runtime_status", "-created_at"], name="instance_status_created"),
            models.Index(fields=["name", "-created_at"], name="instance_name_created"),
            # The list's per-status counts under a name filter read this index alone.
            models.Index(fields=["name", "runtime_status"], name="instance_name_status"),
            models.Index(fields=["next_message_at"], name="instance_ready"),
            models.Index(fields=["parent_instance_id"], name="instance_parent"),
            # The overview's throughput chart counts completions of the last hour.
            models.Index(fields=["completed_at"], name="instance_completed"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.instance_id} ({self.runtime_status})"

    @property
    def status(self) -> OrchestrationStatus:
        return OrchestrationStatus(self.runtime_status)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def duration(self) -> timedelta:
        return (self.completed_at or timezone.now()) - self.created_at


class HistoryRow(models.Model):
    """One event of an instance's history, as stored (the engine's event is engine.HistoryEvent)."""

    instance_id = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH)
    execution_id = models.CharField(max_length=32)
    sequence = models.IntegerField()
    event_type = models.CharField(max_length=50)
    timestamp = models.DateTimeField()
    task_id = models.IntegerField(null=True, blank=True)
    name = models.CharField(max_length=MAX_EVENT_NAME_LENGTH, null=True, blank=True)
    data = models.TextField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["instance_id", "sequence"]
        constraints = [
            # One history, no gaps filled twice: two workers can never both append event N.
            models.UniqueConstraint(fields=["instance_id", "sequence"], name="history_instance_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.instance_id}#{self.sequence} {self.event_type}"

    @classmethod
    def from_engine(cls, instance_id: str, execution_id: str, sequence: int, event: EngineEvent) -> HistoryRow:
        return cls(
            instance_id=instance_id,
            execution_id=execution_id,
            sequence=sequence,
            event_type=str(event.event_type),
            timestamp=event.timestamp,
            task_id=event.task_id,
            name=event.name,
            data=event.data,
            details=dict(event.details),
        )

    def to_engine(self) -> EngineEvent:
        return self.engine_event(self.event_type, self.timestamp, self.task_id, self.name, self.data, self.details)

    @staticmethod
    def engine_event(
        event_type: str, timestamp, task_id: int | None, name: str | None, data: str | None, details
    ) -> EngineEvent:
        """The engine's event from a row's values (read without a model object)."""
        return EngineEvent(EventType(event_type), timestamp, task_id, name, data, details or {})


class Message(models.Model):
    """An event waiting in an instance's inbox: a start, a result, a raised event, a due timer
    (``visible_at`` in the future), or a control message (terminate, suspend, resume)."""

    instance_id = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH)
    #: For answers to the instance's own calls: the execution that made them. Empty for
    #: messages meant for whichever execution is current (events, control messages).
    execution_id = models.CharField(max_length=32, blank=True, default="")
    #: Who sent it: an instance or entity id, or empty for a client. A locked entity takes
    #: messages from its lock holder only; the rest wait, each sender's in the order sent.
    sender = models.CharField(max_length=300, blank=True, default="")
    event_type = models.CharField(max_length=50)
    event = models.JSONField()
    visible_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["instance_id", "visible_at"], name="message_inbox")]

    def __str__(self) -> str:
        return f"{self.event_type} for {self.instance_id}"

    @classmethod
    def for_event(
        cls, instance_id: str, event: EngineEvent, *, execution_id: str = "", visible_at=None, sender: str = ""
    ) -> Message:
        return cls(
            instance_id=instance_id,
            execution_id=execution_id,
            sender=sender,
            event_type=str(event.event_type),
            event=event.to_dict(),
            visible_at=visible_at or event.timestamp,
        )

    def to_engine(self) -> EngineEvent:
        return EngineEvent.from_dict(self.event)


class SetAsideMessage(models.Model):
    """A message taken out of an inbox because the episode (or entity batch) that had to take
    it failed again and again: kept, with the error, for people to see, never processed."""

    instance_id = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH)
    execution_id = models.CharField(max_length=32, blank=True, default="")
    sender = models.CharField(max_length=300, blank=True, default="")
    event_type = models.CharField(max_length=50)
    event = models.JSONField()
    sent_at = models.DateTimeField()
    set_aside_at = models.DateTimeField(default=timezone.now)
    error = models.TextField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["instance_id"], name="set_aside_instance")]

    def __str__(self) -> str:
        return f"{self.event_type} for {self.instance_id} (set aside)"

    @classmethod
    def of(cls, message: Message, error: str, now) -> SetAsideMessage:
        return cls(
            instance_id=message.instance_id,
            execution_id=message.execution_id,
            sender=message.sender,
            event_type=message.event_type,
            event=message.event,
            sent_at=message.created_at,
            set_aside_at=now,
            error=error,
        )


class WorkItem(models.Model):
    """An activity call waiting for, or leased to, an activity worker."""

    instance_id = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH)
    execution_id = models.CharField(max_length=32)
    task_id = models.IntegerField()
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    input = models.TextField(null=True, blank=True)
    visible_at = models.DateTimeField(default=timezone.now)
    lease_owner = models.CharField(max_length=200, null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.IntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    #: The episode that scheduled the call, as a W3C traceparent, when tracing.
    trace_parent = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["visible_at"], name="workitem_ready"),
            models.Index(fields=["instance_id"], name="workitem_instance"),
        ]

    def __str__(self) -> str:
        return f"{self.name} for {self.instance_id}#{self.task_id}"

    @classmethod
    def for_call(
        cls, instance_id: str, execution_id: str, task_id: int, name: str, input: str | None, now: datetime
    ) -> WorkItem:
        """The work item of an activity call an execution made, ready to run now."""
        return cls(
            instance_id=instance_id, execution_id=execution_id, task_id=task_id, name=name, input=input, visible_at=now
        )


class WorkerHeartbeat(models.Model):
    """A worker process (in-process threads or a Celery worker) saying it is alive."""

    worker_id = models.CharField(max_length=200, unique=True)
    hostname = models.CharField(max_length=200)
    pid = models.IntegerField()
    mode = models.CharField(max_length=20)
    queues = models.JSONField(default=dict)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    #: A worker that missed this many heartbeats in a row is taken for dead.
    MISSED_BEATS = 3

    class Meta:
        ordering = ["hostname", "pid"]

    def __str__(self) -> str:
        return self.worker_id

    @classmethod
    def alive_since(cls, now: datetime) -> datetime:
        """The last heartbeat of a worker still alive at ``now`` is at or after this."""
        return now - timedelta(seconds=cls.MISSED_BEATS * settings.PERDURA_WORKER_HEARTBEAT_SECONDS)


class Approval(models.Model):
    """A ``request_approval`` step waiting for, or decided by, a person."""

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"
        EXPIRED = "expired"
        CANCELED = "canceled"

    instance_id = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH)
    execution_id = models.CharField(max_length=32)
    task_id = models.IntegerField()
    name = models.CharField(max_length=MAX_NAME_LENGTH)
    title = models.CharField(max_length=MAX_TITLE_LENGTH)
    details = models.TextField(null=True, blank=True)
    #: The groups whose members may decide; empty means any approver.
    assignees = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-requested_at"], name="approval_status"),
            models.Index(fields=["instance_id"], name="approval_instance"),
            models.Index(fields=["status", "deadline"], name="approval_deadline"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["instance_id", "execution_id", "task_id"], name="approval_instance_task_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class MetricTotal(models.Model):
    """One series of a counter or a histogram, summed over every process that ever added to it
    (orchestrations/store/metrics.py): the figures ``/metrics`` serves. Rows only grow."""

    name = models.CharField(max_length=100)
    #: The label values, as a JSON array in the order of the metric's label names.
    labels = models.TextField()
    #: ``""`` for a counter; for a histogram ``sum``, ``count`` or a bucket's upper bound.
    series = models.CharField(max_length=20)
    value = models.FloatField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "labels", "series"], name="metric_total_unique")]

    def __str__(self) -> str:
        return f"{self.name}{self.labels}{self.series}: {self.value}"


class MetricSample(models.Model):
    """A figure the console's metrics page draws, read once a minute (store/metric_samples.py):
    a running total (counters, histogram buckets) or a level (backlog). Kept two hours."""

    minute = models.DateTimeField()
    name = models.CharField(max_length=200)
    value = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["minute", "name"], name="metric_sample_unique")]

    def __str__(self) -> str:
        return f"{self.name} at {self.minute:%H:%M}: {self.value}"
