"""The official Python client drives the orchestrations and entities of an Azure Functions app
(tests/azure_function_app.py), run through the Azure SDK on Perdura, over the live server."""

from __future__ import annotations

import pytest
from azure.durable_functions import DurableOrchestrationClient, EntityId
from azure.durable_functions.models.OrchestrationRuntimeStatus import OrchestrationRuntimeStatus as Status

from tests.orchestrations.api.test_official_client import client_for, reach, run

pytestmark = pytest.mark.slow


@pytest.fixture
def client(live_server, operator_key, workers) -> DurableOrchestrationClient:
    return client_for(live_server.url, operator_key)


def test_the_official_client_runs_an_azure_orchestration_with_sub_orchestrations(client):
    async def scenario():
        instance_id = await client.start_new("az_parent")
        return await reach(client, instance_id, Status.Completed)

    status = run(scenario())

    assert status.output == ["Hello Oslo!", "Hello Lima!", "Hello Cairo!"]


def test_the_official_client_raises_the_event_an_azure_orchestration_waits_for(client):
    async def scenario():
        instance_id = await client.start_new("az_human_interaction", client_input=3600)
        await reach(client, instance_id, Status.Running)
        await client.raise_event(instance_id, "Approval", "by the client")
        return await reach(client, instance_id, Status.Completed)

    assert run(scenario()).output == "approved: by the client"


def test_the_official_client_signals_and_reads_an_azure_entity(client):
    entity = EntityId("az_counter", "official-client")

    async def scenario():
        await client.signal_entity(entity, "add", 5)
        await client.signal_entity(entity, "add", 6)
        instance_id = await client.start_new("az_counter_user", client_input="official-client")
        await reach(client, instance_id, Status.Completed)
        return await client.read_entity_state(entity)

    state = run(scenario())

    assert state.entity_exists
    assert state.entity_state == 18  # 5 + 6, then the orchestration's 3 + 4.
