"""Which approvals a user sees: those assigned to none of the groups, or to one of theirs, exactly."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from orchestrations.approvals import visible_to
from orchestrations.models import Approval

pytestmark = pytest.mark.django_db


def approval(name: str, assignees: list[str]) -> Approval:
    return Approval.objects.create(
        instance_id=name, execution_id="e", task_id=0, name=name, title=name, assignees=assignees
    )


def test_a_user_sees_approvals_of_their_groups_and_unassigned_ones_but_not_similar_names():
    user = User.objects.create_user("ann")
    user.groups.add(Group.objects.get(name="viewer"))
    mine, open_to_all = approval("mine", ["viewer"]), approval("all", [])
    approval("similar", ["viewers-eu"])
    approval("other", ["warehouse"])

    assert set(visible_to(user)) == {mine, open_to_all}
