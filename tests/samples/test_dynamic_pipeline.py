"""Dynamic orchestration: edit_document runs the sub-orchestrations its input names."""

from __future__ import annotations

import json

import pytest

from orchestrations import services
from orchestrations.models import Instance
from orchestrations.worker.loop import drain_all
from tests.samples import COMPLETION_TIMEOUT

TEXT = "Contact   us at  press@example.com.  We ship\n worldwide."


def children_of(instance_id: str) -> list[Instance]:
    return list(Instance.objects.filter(parent_instance_id=instance_id).order_by("parent_task_id"))


@pytest.mark.django_db
def test_only_the_requested_steps_run():
    instance_id = services.start("edit_document", {"text": TEXT, "steps": ["tidy"]})

    drain_all()

    instance = services.get(instance_id)
    assert json.loads(instance.output) == {
        "steps": ["tidy"],
        "text": "Contact us at press@example.com. We ship worldwide.",
    }
    assert [child.name for child in children_of(instance_id)] == ["tidy_document_step"]


@pytest.mark.django_db
def test_an_unknown_step_fails_the_orchestration_before_any_work():
    instance_id = services.start("edit_document", {"text": TEXT, "steps": ["tidy", "translate"]})

    drain_all()

    instance = services.get(instance_id)
    assert instance.runtime_status == "Failed"
    assert "unknown editing steps ['translate']" in instance.failure["message"]
    assert children_of(instance_id) == []


@pytest.mark.slow
def test_edit_document_runs_each_step_as_a_child_instance_in_order(workers):
    instance_id = services.start("edit_document", {"text": TEXT, "steps": ["tidy", "redact", "headline"]})

    instance = services.wait_for_completion(instance_id, timeout=COMPLETION_TIMEOUT)

    assert instance.runtime_status == "Completed"
    assert json.loads(instance.output) == {
        "steps": ["tidy", "redact", "headline"],
        "text": "CONTACT US AT [REDACTED]\n\nContact us at [redacted]. We ship worldwide.",
    }
    children = children_of(instance_id)
    assert [child.name for child in children] == [
        "tidy_document_step",
        "redact_document_step",
        "headline_document_step",
    ]
    assert [child.runtime_status for child in children] == ["Completed"] * 3
    assert json.loads(children[1].output) == "Contact us at [redacted]. We ship worldwide."
