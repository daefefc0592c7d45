"""Who sees and who decides which approval: every role that reads sees them all; an approver
decides those assigned to one of their groups (exactly) or to none; an admin decides every one,
superuser or not."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from orchestrations.access import roles
from orchestrations.models import Approval
from orchestrations.services.approvals import can_decide, decidable_by
from tests.conftest import REPO

pytestmark = pytest.mark.django_db


def approval(name: str, assignees: list[str]) -> Approval:
    return Approval.objects.create(
        instance_id=name, execution_id="e", task_id=0, name=name, title=name, assignees=assignees
    )


def member(username: str, *groups: str) -> User:
    user = User.objects.create_user(username)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def test_an_approver_decides_approvals_of_their_groups_and_unassigned_ones_but_not_similar_names():
    user = member("ann", "approver", "warehouse")
    mine, open_to_all = approval("mine", ["warehouse"]), approval("all", [])
    similar, other = approval("similar", ["warehouses-eu"]), approval("other", ["finance"])

    assert set(decidable_by(user)) == {mine, open_to_all}
    assert [can_decide(user, a) for a in (mine, open_to_all, similar, other)] == [True, True, False, False]


def test_an_admin_who_is_not_a_superuser_decides_every_approval():
    admin = member("ada", "admin")
    assigned = approval("finance-only", ["finance"])

    assert not admin.is_superuser
    assert set(decidable_by(admin)) == {assigned}
    assert can_decide(admin, assigned)


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_roles_that_only_read_decide_nothing(role):
    user = member("val", role, "warehouse")
    assigned = approval("mine", ["warehouse"])

    assert not decidable_by(user).exists()
    assert not can_decide(user, assigned)


def test_a_read_only_deployment_lets_nobody_decide(settings):
    settings.PERDURA_READ_ONLY = True
    admin = member("ada", "admin")
    approval("any", [])

    assert not decidable_by(admin).exists()


@pytest.mark.parametrize(
    ("groups", "says", "forms"),
    [
        (("viewer",), "Your role (viewer) reads them; approvers and admins decide them.", 0),
        (("approver", "warehouse"), "you decide those assigned to your groups (warehouse) or to no group", 1),
        (("admin",), "As an admin, you may decide every one.", 2),
    ],
)
def test_the_inbox_shows_every_approval_and_says_what_the_role_may_do(groups, says, forms):
    approval("for the warehouse", ["warehouse"])
    approval("for finance", ["finance"])
    client = Client()
    client.force_login(member("someone", *groups))

    page = client.get(reverse("approvals")).content.decode()

    assert " ".join(says.split()) in " ".join(page.split())
    assert "for the warehouse" in page and "for finance" in page
    assert page.count('name="decision" value="approve"') == forms
    assert "approver, warehouse" not in page  # Role groups are not listed as assignment groups.


def test_the_overview_counts_every_pending_approval_for_an_admin_who_is_not_a_superuser():
    approval("finance-only", ["finance"])
    client = Client()
    client.force_login(member("ada", "admin"))

    page = " ".join(client.get(reverse("overview")).content.decode().split())

    assert 'Pending approvals <span class="count">1</span>' in page


def test_the_readme_table_of_roles_is_the_one_in_the_code():
    """One role matrix: the README shows roles.ROLE_PERMISSIONS and roles.APPROVALS_DECIDED as they are."""

    def cell(role: str, codename: str) -> str:
        if codename not in roles.ROLE_PERMISSIONS[role]:
            return ""
        return roles.APPROVALS_DECIDED[role] if codename == "decide_approval" else "yes"

    expected = [
        "| permission | " + " | ".join(roles.ROLES) + " |",
        "| --- |" + " --- |" * len(roles.ROLES),
        *(
            f"| {description} | " + " | ".join(cell(role, codename) for role in roles.ROLES) + " |"
            for codename, description in roles.PERMISSIONS.items()
        ),
    ]
    readme = (REPO / "README.md").read_text()
    lines = [" ".join(line.split()) for line in readme.splitlines()]
    start = lines.index(expected[0])

    assert lines[start : start + len(expected)] == [" ".join(line.split()) for line in expected]
