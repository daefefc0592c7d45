"""Fixtures of the HTTP API tests: keys of each role and a client for the live server."""

from __future__ import annotations

import pytest

from orchestrations.access import apikeys
from orchestrations.access.roles import ADMIN, APPROVER, OPERATOR, VIEWER
from tests.orchestrations.api.helpers import settle
from tests.orchestrations.api.live import LiveApi


@pytest.fixture
def committed_db(transactional_db):
    """The database of a live-server test, whose data is committed. At the end, the work the
    test left is finished before the database is emptied: a worker still writing then (the
    session's worker process in CI's services run) could deadlock the flush."""
    yield
    settle()


@pytest.fixture
def make_key(committed_db):
    """Create an API key with a role; return its plain text."""

    def make(role: str = OPERATOR, name: str | None = None) -> str:
        _, plain_key = apikeys.create(name or f"{role} test key", role)
        return plain_key

    return make


@pytest.fixture
def operator_key(make_key) -> str:
    return make_key(OPERATOR)


@pytest.fixture
def admin_key(make_key) -> str:
    return make_key(ADMIN)


@pytest.fixture
def viewer_key(make_key) -> str:
    return make_key(VIEWER)


@pytest.fixture
def approver_key(make_key) -> str:
    return make_key(APPROVER)


@pytest.fixture
def api(live_server, admin_key) -> LiveApi:
    """The live server's API with an admin key in the x-functions-key header."""
    return LiveApi(live_server.url, admin_key)


@pytest.fixture
def anonymous(live_server, committed_db) -> LiveApi:
    return LiveApi(live_server.url, None)
