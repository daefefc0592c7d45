"""Fixtures for the console tests: users in each role, logged-in clients, and instances in
known states made without workers (``drain_all`` runs what is ready, synchronously)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from orchestrations import services
from orchestrations.worker.loop import drain_all


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    """A user in the given groups: roles (viewer, operator, approver, admin) or assignee groups.
    Without a password (clients log in with ``force_login``), which saves the slow hashing."""

    def make(username: str, *groups: str) -> User:
        user = User.objects.create_user(username)
        for name in groups:
            group, _ = Group.objects.get_or_create(name=name)
            user.groups.add(group)
        return user

    return make


@pytest.fixture
def login(make_user) -> Callable[..., Client]:
    """A client logged in as a new user with the given groups."""

    def log_in(*groups: str, username: str | None = None) -> Client:
        user = make_user(username or "-".join(groups) or "nobody", *groups)
        client = Client()
        client.force_login(user)
        return client

    return log_in


@pytest.fixture
def viewer(login) -> Client:
    return login("viewer")


@pytest.fixture
def operator(login) -> Client:
    return login("operator")


@pytest.fixture
def admin(login) -> Client:
    return login("admin")


@pytest.fixture
def nobody(login) -> Client:
    """Logged in, but in no role at all."""
    return login()


def running_instance(instance_id: str = "waiting-1") -> str:
    """An instance waiting for an external event named "approval"."""
    services.start("wait_for_approval", None, instance_id=instance_id)
    drain_all()
    return instance_id


def completed_instance(instance_id: str = "done-1", value: object = "hello") -> str:
    services.start("echo_orchestrator", value, instance_id=instance_id)
    drain_all()
    return instance_id


def failed_instance(instance_id: str = "failed-1") -> str:
    services.start("failing_orchestrator", "boom", instance_id=instance_id)
    drain_all()
    return instance_id
