"""The official Python client, ``azure.durable_functions.DurableOrchestrationClient``, against
the live server: its binding's ``rpcBaseUrl`` is Perdura's key-bearing base URL, and
background workers run what it starts."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from azure.durable_functions import DurableOrchestrationClient, EntityId
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus as Status
from azure.durable_functions.models.utils import http_utils

from tests.orchestrations.api.test_start import PAYLOADS

pytestmark = pytest.mark.slow


@pytest.fixture
def client(live_server, operator_key, workers) -> DurableOrchestrationClient:
    return client_for(live_server.url, operator_key)


@pytest.fixture
def admin_client(live_server, admin_key, workers) -> DurableOrchestrationClient:
    return client_for(live_server.url, admin_key)


def client_for(server_url: str, key: str) -> DurableOrchestrationClient:
    """The client as an Azure function gets it: from the JSON of its durableClient binding."""
    base_url = f"{server_url}/runtime/webhooks/durabletask/sdk/{key}/"
    instance = f"{server_url}/runtime/webhooks/durabletask/instances/INSTANCEID"
    binding = {
        "taskHubName": "perdura",
        "rpcBaseUrl": base_url,
        "creationUrls": {
            "createNewInstancePostUri": f"{server_url}/runtime/webhooks/durabletask/orchestrators/{{functionName}}",
        },
        "managementUrls": {
            "id": "INSTANCEID",
            "statusQueryGetUri": instance,
            "sendEventPostUri": f"{instance}/raiseEvent/{{eventName}}",
            "terminatePostUri": f"{instance}/terminate?reason={{text}}",
            "rewindPostUri": f"{instance}/rewind?reason={{text}}",
            "purgeHistoryDeleteUri": instance,
            "restartPostUri": f"{instance}/restart",
            "suspendPostUri": f"{instance}/suspend?reason={{text}}",
            "resumePostUri": f"{instance}/resume?reason={{text}}",
        },
    }
    return DurableOrchestrationClient(json.dumps(binding))


def run(scenario):
    """Run a scenario on a new event loop. The client keeps one aiohttp session per process,
    bound to the loop that opened it, so the scenario closes it before its loop goes."""

    async def main():
        try:
            return await scenario
        finally:
            await http_utils._close_session()

    return asyncio.run(main())


async def reach(client, instance_id: str, status: Status, timeout: float = 30.0):
    """Poll with the client until the instance is in ``status``; return that status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = await client.get_status(instance_id)
        if current and current.runtime_status == status:
            return current
        await asyncio.sleep(0.05)
    raise AssertionError(f"{instance_id} did not reach {status} in {timeout}s (last: {current.runtime_status})")


def test_start_new_and_get_status_with_history(client):
    async def scenario():
        instance_id = await client.start_new("echo_orchestrator", client_input={"order": 42, "items": ["a"]})
        await reach(client, instance_id, Status.Completed)
        return instance_id, await client.get_status(instance_id, show_history=True, show_history_output=True)

    instance_id, status = run(scenario())

    assert status.instance_id == instance_id
    assert status.name == "echo_orchestrator"
    assert status.input_ == {"order": 42, "items": ["a"]}
    assert status.output == {"order": 42, "items": ["a"]}
    events = status.historyEvents  # the service's field name, which the client keeps as it is
    assert events[0]["EventType"] == "ExecutionStarted"
    [completed] = [event for event in events if event["EventType"] == "TaskCompleted"]
    assert (completed["FunctionName"], completed["Result"]) == ("echo", {"order": 42, "items": ["a"]})


def test_start_new_passes_json_of_every_type(client):
    async def scenario():
        outputs = []
        for number, payload in enumerate(PAYLOADS):
            instance_id = await client.start_new("echo_orchestrator", f"typed-{number}", payload)
            outputs.append((await reach(client, instance_id, Status.Completed)).output)
        return outputs

    assert run(scenario()) == PAYLOADS


def test_start_new_of_an_unknown_orchestrator_raises_the_reason(client):
    with pytest.raises(Exception, match="no_such_orchestrator"):
        run(client.start_new("no_such_orchestrator"))


def test_get_status_of_an_unknown_instance_is_empty(client):
    assert not run(client.get_status("nobody"))


def test_get_status_all_and_get_status_by(client):
    async def scenario():
        await client.start_new("echo_orchestrator", "batch-a", 1)
        await client.start_new("echo_orchestrator", "batch-b", 2)
        await client.start_new("wait_for_approval", "other")
        await reach(client, "batch-a", Status.Completed)
        await reach(client, "batch-b", Status.Completed)
        await reach(client, "other", Status.Running)
        everything = await client.get_status_all()
        completed = await client.get_status_by(
            created_time_from=datetime.now(UTC) - timedelta(minutes=5),
            created_time_to=datetime.now(UTC) + timedelta(minutes=5),
            runtime_status=[Status.Completed],
        )
        prefixed = await client.get_status_by(
            instance_id_prefix="batch-", runtime_status=[Status.Completed, Status.Running]
        )
        return everything, completed, prefixed

    everything, completed, prefixed = run(scenario())

    assert sorted(status.instance_id for status in everything) == ["batch-a", "batch-b", "other"]
    assert sorted(status.instance_id for status in completed) == ["batch-a", "batch-b"]
    assert sorted(status.instance_id for status in prefixed) == ["batch-a", "batch-b"]


def test_raise_event_delivers_the_data(client):
    async def scenario():
        outputs = []
        for number, payload in enumerate(PAYLOADS):
            instance_id = await client.start_new("wait_for_approval", f"approval-{number}")
            await reach(client, instance_id, Status.Running)
            await client.raise_event(instance_id, "approval", payload)
            outputs.append((await reach(client, instance_id, Status.Completed)).output)
        return outputs

    assert run(scenario()) == PAYLOADS


def test_raise_event_on_a_finished_instance_raises(client):
    async def scenario():
        instance_id = await client.start_new("echo_orchestrator", client_input=1)
        await reach(client, instance_id, Status.Completed)
        await client.raise_event(instance_id, "approval", 1)

    with pytest.raises(Exception, match="is gone"):
        run(scenario())


def test_suspend_resume_terminate(client):
    async def scenario():
        instance_id = await client.start_new("wait_for_approval", "controlled")
        await reach(client, instance_id, Status.Running)
        await client.suspend(instance_id, "maintenance")
        suspended = await reach(client, instance_id, Status.Suspended)
        await client.resume(instance_id, "back")
        resumed = await reach(client, instance_id, Status.Running)
        await client.terminate(instance_id, "no longer needed")
        terminated = await reach(client, instance_id, Status.Terminated)
        return suspended, resumed, terminated

    suspended, resumed, terminated = run(scenario())

    assert suspended.runtime_status == Status.Suspended
    assert resumed.runtime_status == Status.Running
    assert terminated.output == "no longer needed"


def test_rewind_a_failed_instance(client):
    async def scenario():
        instance_id = await client.start_new(
            "call_activity_by_name", "flaky", {"activity": "fail_first_time", "input": "sdk"}
        )
        await reach(client, instance_id, Status.Failed)
        await client.rewind(instance_id, "the fault is fixed")
        return await reach(client, instance_id, Status.Completed)

    assert run(scenario()).output == "recovered sdk"


def test_restart_with_a_new_and_with_the_same_id(admin_client):
    """Restarting under the same id replaces the finished instance, which needs an admin key."""
    client = admin_client

    async def scenario():
        instance_id = await client.start_new("echo_orchestrator", "original", {"v": 1})
        await reach(client, instance_id, Status.Completed)
        payload = await client.restart(instance_id)
        restarted = await reach(client, payload["id"], Status.Completed)
        same = await client.restart(instance_id, restart_with_new_instance_id=False)
        again = await reach(client, instance_id, Status.Completed)
        return payload, restarted, same, again

    payload, restarted, same, again = run(scenario())

    # Like Azure, the service answers a restart with the check-status payload, which the
    # client returns as it is.
    assert payload["id"] != "original"
    assert restarted.output == {"v": 1}
    assert same["id"] == "original"
    assert again.output == {"v": 1}


def test_an_operator_key_restarts_under_a_new_id_only(client):
    async def scenario():
        instance_id = await client.start_new("echo_orchestrator", "kept", {"v": 1})
        await reach(client, instance_id, Status.Completed)
        with pytest.raises(Exception, match="403"):
            await client.restart(instance_id, restart_with_new_instance_id=False)
        return await client.restart(instance_id)

    assert run(scenario())["id"] != "kept"


def test_purge_instance_history_and_purge_by_filter(admin_client):
    client = admin_client

    async def scenario():
        for instance_id in ("purge-a", "purge-b", "purge-c"):
            await client.start_new("echo_orchestrator", instance_id, 1)
            await reach(client, instance_id, Status.Completed)
        one = await client.purge_instance_history("purge-a")
        unknown = await client.purge_instance_history("purge-a")
        by_filter = await client.purge_instance_history_by(
            created_time_from=datetime.now(UTC) - timedelta(minutes=5), runtime_status=[Status.Completed]
        )
        remaining = await client.get_status_all()
        return one, unknown, by_filter, remaining

    one, unknown, by_filter, remaining = run(scenario())

    assert (one.instances_deleted, unknown.instances_deleted, by_filter.instances_deleted) == (1, 0, 2)
    assert remaining == []


def test_signal_entity_and_read_entity_state(client):
    async def scenario():
        counter = EntityId("counter", "sdk")
        await client.signal_entity(counter, "add", 5)
        await client.signal_entity(counter, "add", 2)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = await client.read_entity_state(counter)
            if state.entity_exists and state.entity_state == 7:
                break
            await asyncio.sleep(0.05)
        missing = await client.read_entity_state(EntityId("counter", "never"))
        return state, missing

    state, missing = run(scenario())

    assert (state.entity_exists, state.entity_state) == (True, 7)
    assert (missing.entity_exists, missing.entity_state) == (False, None)


def test_a_client_whose_key_lacks_the_role_is_refused(live_server, viewer_key, workers):
    client = client_for(live_server.url, viewer_key)

    with pytest.raises(Exception, match="403"):
        run(client.terminate("anything", "no"))
