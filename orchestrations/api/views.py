"""Orchestration instances over HTTP: start, status, query, purge, and the commands on one
instance, with Durable Functions' status codes (see each handler and ``docs/openapi.json``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from orchestrations import services
from orchestrations.api import openapi, params
from orchestrations.api.auth import Caller, requires
from orchestrations.api.endpoints import ApiError, endpoint, json_response
from orchestrations.api.links import check_status_response
from orchestrations.engine import OrchestrationStatus
from orchestrations.models import Instance
from orchestrations.services.status import status_document

#: Statuses in which a status poll answers 202 "still going", with Location and Retry-After.
IN_PROGRESS = {
    OrchestrationStatus.PENDING,
    OrchestrationStatus.RUNNING,
    OrchestrationStatus.CONTINUED_AS_NEW,
    OrchestrationStatus.SUSPENDED,
}
#: How long a client should wait before polling a running instance again, in seconds (Azure's value).
STATUS_RETRY_AFTER = "5"


# Starting.


@requires("start_instance")
def start_orchestration(
    request: HttpRequest, caller: Caller, function_name: str, instance_id: str | None = None
) -> HttpResponse:
    """202 with the check-status payload; with ``timeout`` and ``pollingInterval``, waits and
    answers as ``_completion_response`` does. 400 for an unknown orchestrator, a bad id or bad
    JSON, 409 when the id belongs to an instance that has not finished."""
    orchestration_input = params.json_body(request, caller)
    wait = params.wait_seconds(request)
    started = services.start(
        function_name,
        orchestration_input,
        instance_id=instance_id,
        version=request.GET.get("version", ""),
        actor=caller.actor,
    )
    return _completion_response(request, caller, started, wait)


def _completion_response(
    request: HttpRequest, caller: Caller, instance_id: str, wait: tuple[float, float] | None
) -> HttpResponse:
    """Without ``wait``, the check-status response. With it, once the instance finishes within
    the timeout: 200 with its output if it completed, its status document otherwise; if it is
    still going at the timeout, the check-status response."""
    if wait is None:
        return check_status_response(request, caller, instance_id)
    timeout, interval = wait
    instance = services.wait_for_completion(instance_id, timeout, interval)
    if instance.status == OrchestrationStatus.COMPLETED:
        return json_response(status_document(instance)["output"])
    if instance.is_terminal:
        return _status_response(request, instance)
    return check_status_response(request, caller, instance_id)


# Reading.


@requires("view_console")
def get_status(request: HttpRequest, caller: Caller, instance_id: str) -> HttpResponse:
    """The status document: 202 while the instance is going, 200 once it has finished (500 for a
    failed one if ``returnInternalServerErrorOnFailure=true``), 404 for an unknown id."""
    return _status_response(request, services.get(instance_id))


def _status_response(request: HttpRequest, instance: Instance) -> JsonResponse:
    show_history = params.flag(request, "showHistory", False)
    document = status_document(
        instance,
        history=services.history(instance.instance_id) if show_history else None,
        show_input=params.flag(request, "showInput", True),
        show_output=params.flag(request, "showHistoryOutput", False),
    )
    if instance.status in IN_PROGRESS:
        headers = {"Location": request.build_absolute_uri(), "Retry-After": STATUS_RETRY_AFTER}
        return json_response(document, status=202, headers=headers)
    failed_as_error = params.flag(request, "returnInternalServerErrorOnFailure", False)
    status = 500 if instance.status == OrchestrationStatus.FAILED and failed_as_error else 200
    return json_response(document, status=status)


@requires("view_console")
def query_instances(request: HttpRequest, caller: Caller) -> HttpResponse:
    """A page of status documents, newest first; the ``x-ms-continuation-token`` response
    header, when present, asks for the next page (send it back as a request header)."""
    show_input = params.flag(request, "showInput", True)
    page = services.query(
        statuses=params.runtime_statuses(request),
        created_from=params.timestamp(request, "createdTimeFrom"),
        created_to=params.timestamp(request, "createdTimeTo"),
        instance_id_prefix=request.GET.get("instanceIdPrefix") or None,
        page_size=params.page_size(request),
        continuation_token=params.continuation_token(request),
    )
    documents = [status_document(instance, show_input=show_input) for instance in page.instances]
    headers = {params.CONTINUATION_TOKEN_HEADER: page.continuation_token} if page.continuation_token else None
    return json_response(documents, headers=headers)


# Purging.


@requires("purge_instance")
def purge_instance(request: HttpRequest, caller: Caller, instance_id: str) -> HttpResponse:
    """200 ``{"instancesDeleted": 1}``; 404 for an unknown id; 412 for an instance that has not
    finished."""
    try:
        deleted = services.purge(instance_id, actor=caller.actor)
    except services.InvalidStateError as error:
        raise ApiError(412, str(error), exception=error) from None
    return json_response({"instancesDeleted": deleted})


@requires("purge_instance")
def purge_instances(request: HttpRequest, caller: Caller) -> HttpResponse:
    """Purge the finished instances created from ``createdTimeFrom`` (required) to
    ``createdTimeTo`` (default: now), of the given ``runtimeStatus`` (default: every finished
    one). 200 with how many went; 404 when none matched."""
    created_from = params.timestamp(request, "createdTimeFrom")
    if created_from is None:
        raise ApiError(400, "Please provide value for 'createdTimeFrom' parameter.")
    deleted = services.purge_by(
        statuses=params.runtime_statuses(request),
        created_from=created_from,
        created_to=params.timestamp(request, "createdTimeTo") or timezone.now(),
        actor=caller.actor,
    )
    if not deleted:
        return json_response({"Message": "no finished instances matched the filters", "instancesDeleted": 0}, 404)
    return json_response({"instancesDeleted": deleted})


# Commands on one instance: 202 once accepted, 404 for an unknown id, 410 once it has finished.


@requires("raise_event")
def raise_event(request: HttpRequest, caller: Caller, instance_id: str, event_name: str) -> HttpResponse:
    """The body, JSON (``Content-Type: application/json``), is the event's data; empty is null.
    As on Azure, an unknown or finished instance is reported before a bad body."""
    instance = services.get(instance_id)
    if instance.is_terminal:
        raise services.InstanceFinishedError(
            f"instance {instance_id!r} has already finished ({instance.runtime_status})"
        )
    if not params.is_json(request):
        raise ApiError(400, "Only application/json request content is supported")
    services.raise_event(instance_id, event_name, params.json_body(request, caller), actor=caller.actor)
    return _accepted(f"Event {event_name!r} sent to instance {instance_id!r}.")


@requires("terminate_instance")
def terminate(request: HttpRequest, caller: Caller, instance_id: str) -> HttpResponse:
    services.terminate(instance_id, request.GET.get("reason"), actor=caller.actor)
    return _accepted(f"Termination of instance {instance_id!r} requested.")


@requires("suspend_instance")
def suspend(request: HttpRequest, caller: Caller, instance_id: str) -> HttpResponse:
    services.suspend(instance_id, request.GET.get("reason"), actor=caller.actor)
    return _accepted(f"Suspension of instance {instance_id!r} requested.")


@requires("resume_instance")
def resume(request: HttpRequest, caller: Caller, instance_id: str) -> HttpResponse:
    services.resume(instance_id, request.GET.get("reason"), actor=caller.actor)
    return _accepted(f"Resumption of instance {instance_id!r} requested.")


@requires("rewind_instance")
def rewind(request: HttpRequest, caller: Caller, instance_id: str) -> HttpResponse:
    """412 for an instance that has not failed: only a failed instance can be rewound."""
    try:
        services.rewind(instance_id, request.GET.get("reason"), actor=caller.actor)
    except services.InvalidStateError as error:
        raise ApiError(412, str(error), exception=error) from None
    return _accepted(f"Rewind of instance {instance_id!r} requested.")


@requires("restart_instance")
def restart(request: HttpRequest, caller: Caller, instance_id: str) -> HttpResponse:
    """Start the orchestration again with its original input: under a new id unless
    ``restartWithNewInstanceId=false``. Answers as a start does; 409 when restarting under the
    same id an instance that has not finished."""
    new_instance_id = params.flag(request, "restartWithNewInstanceId", True)
    wait = params.wait_seconds(request)
    restarted = services.restart(instance_id, new_instance_id=new_instance_id, actor=caller.actor)
    return _completion_response(request, caller, restarted, wait)


def _accepted(message: str) -> JsonResponse:
    return json_response({"Message": message}, status=202)


def openapi_document(request: HttpRequest, path_key: str | None = None) -> HttpResponse:
    """This API's OpenAPI document (also committed as docs/openapi.json); no key needed, so a
    key in the path is ignored."""
    return json_response(openapi.document())


orchestrators = endpoint(POST=start_orchestration)
instances = endpoint(GET=query_instances, DELETE=purge_instances)
instance = endpoint(GET=get_status, DELETE=purge_instance)
instance_raise_event = endpoint(POST=raise_event)
instance_terminate = endpoint(POST=terminate)
instance_suspend = endpoint(POST=suspend)
instance_resume = endpoint(POST=resume)
instance_rewind = endpoint(POST=rewind)
instance_restart = endpoint(POST=restart)
openapi_json = endpoint(GET=openapi_document)
