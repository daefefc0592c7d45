"""Every length and type the database would refuse is refused first, by the services, before
anything is written: a value that reached a checkpoint and could not be stored would fail it
on every retry (a 301-character event name froze an instance on PostgreSQL)."""

from __future__ import annotations

import pytest
from django.apps import apps

from entities import services as entity_services
from orchestrations import services
from orchestrations.access.audit import Actor
from orchestrations.access.models import AuditLogEntry
from orchestrations.engine import EntityId, InvalidEntityIdError, limits
from orchestrations.models import Approval, HistoryRow, Instance, Message
from orchestrations.services import approvals
from orchestrations.worker.loop import drain_all

pytestmark = pytest.mark.django_db

LONG_EVENT_NAME = "e" * 10_000


def stored() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in (Instance, HistoryRow, Message, Approval, AuditLogEntry, apps.get_model("entities", "Entity"))
    }


@pytest.fixture
def waiting() -> str:
    services.start("wait_for_approval", None, instance_id="waiting")
    drain_all()
    return "waiting"


def refused(call, message: str) -> None:
    before = stored()
    with pytest.raises(services.BadInputError, match=message):
        call()
    assert stored() == before


@pytest.mark.parametrize(
    ("event_name", "message"),
    [
        (LONG_EVENT_NAME, "an event name may have at most 300 characters; this one has 10,000"),
        ("e" * 301, "at most 300 characters"),
        ("approval\x00", "may not contain control characters"),
    ],
)
def test_an_event_name_that_could_not_be_stored_is_refused(waiting, event_name, message):
    refused(lambda: services.raise_event(waiting, event_name, True), message)


def test_an_event_name_of_300_characters_is_delivered(waiting):
    services.raise_event(waiting, "e" * 300, True)

    assert Message.objects.filter(instance_id=waiting, event_type="EventRaised").count() == 1


def test_a_version_too_long_is_refused():
    refused(lambda: services.start("echo_orchestrator", 1, version="v" * 101), "the version may have at most 100")


def test_an_instance_id_too_long_is_refused():
    refused(lambda: services.start("echo_orchestrator", 1, instance_id="i" * 257), "at most 256 characters")


@pytest.mark.parametrize(
    "call",
    [
        lambda instance_id: services.terminate(instance_id, "r" * 4001),
        lambda instance_id: services.suspend(instance_id, "r" * 4001),
        lambda instance_id: services.resume(instance_id, "r" * 4001),
        lambda instance_id: services.raise_event(instance_id, "approval", 1, reason="r" * 4001),
        lambda instance_id: services.terminate(instance_id, "why\x00"),
    ],
)
def test_a_reason_that_could_not_be_stored_is_refused(waiting, call):
    refused(lambda: call(waiting), "the reason")


def test_a_reason_may_hold_line_breaks(waiting):
    services.terminate(waiting, "first line\nsecond line\ttabbed")
    drain_all()

    assert Instance.objects.get(pk=waiting).runtime_status == "Terminated"


@pytest.mark.parametrize(
    ("name", "key", "message"),
    [
        ("c" * 201, "k", "an entity name may have at most 200"),
        ("counter", "k" * 250, r"an entity id \(@name@key\) may have at most 256 characters; this one has 259"),
        ("count\x00er", "k", "control characters"),
        ("counter", "k\x00", "control characters"),
    ],
)
def test_an_entity_id_that_could_not_be_stored_is_refused(name, key, message):
    with pytest.raises(InvalidEntityIdError, match=message):
        EntityId(name, key)
    with pytest.raises(services.BadInputError, match=message):
        entity_services.parse_entity_id(name, key)


def test_an_operation_name_too_long_is_refused():
    refused(lambda: entity_services.signal(EntityId("counter", "k"), "o" * 301, 1), "at most 300 characters")


def test_an_approval_comment_too_long_is_refused(django_user_model):
    order = {"order_id": 7, "items": ["book"]}
    services.start("approve_shipment", order, instance_id="needs-approval")
    drain_all()
    approval = Approval.objects.get(instance_id="needs-approval")
    admin = django_user_model.objects.create_superuser("root")

    refused(
        lambda: approvals.decide(
            approval.pk, approved=True, comment="c" * 4001, user=admin, actor=Actor.for_user(admin)
        ),
        "the comment may have at most 4,000",
    )
    assert Approval.objects.get(pk=approval.pk).is_pending


def test_the_models_take_their_widths_from_the_limits():
    """One table: the columns are as wide as the limits the doors check."""
    widths = {
        ("orchestrations", "Instance", "instance_id"): limits.MAX_INSTANCE_ID_LENGTH,
        ("orchestrations", "Instance", "name"): limits.MAX_NAME_LENGTH,
        ("orchestrations", "Instance", "version"): limits.MAX_VERSION_LENGTH,
        ("orchestrations", "HistoryRow", "name"): limits.MAX_EVENT_NAME_LENGTH,
        ("orchestrations", "Message", "instance_id"): limits.MAX_INSTANCE_ID_LENGTH,
        ("orchestrations", "WorkItem", "name"): limits.MAX_NAME_LENGTH,
        ("orchestrations", "Approval", "name"): limits.MAX_NAME_LENGTH,
        ("orchestrations", "Approval", "title"): limits.MAX_TITLE_LENGTH,
        ("entities", "Entity", "name"): limits.MAX_NAME_LENGTH,
        ("functions", "Function", "name"): limits.MAX_NAME_LENGTH,
    }
    for (app, model, field), width in widths.items():
        assert apps.get_model(app, model)._meta.get_field(field).max_length == width, (model, field)
    assert (
        apps.get_model("orchestrations", "Message")._meta.get_field("instance_id").max_length
        >= limits.MAX_ENTITY_ID_LENGTH
    )
