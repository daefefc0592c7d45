from __future__ import annotations

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


class Execution(models.Model):
    """One run of an activity: at least one per scheduled call, more if a worker died mid-run."""

    class Status(models.TextChoices):
        RUNNING = "Running"
        COMPLETED = "Completed"
        FAILED = "Failed"
        ABANDONED = "Abandoned"

    function_name = models.CharField(max_length=MAX_NAME_LENGTH)
    instance_id = models.CharField(max_length=MAX_INSTANCE_ID_LENGTH)
    task_id = models.IntegerField()
    work_item_id = models.BigIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
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
        return f"{self.function_name} for {self.instance_id}#{self.task_id} ({self.status})"

    @property
    def duration(self):
        return self.ended_at - self.started_at if self.ended_at else None
