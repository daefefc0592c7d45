"""The check-status payload: the management URLs of an instance, as Durable Functions hands
them out when an instance starts (``CreateCheckStatusResponse``). The HTTP API's starter and
the durable client binding of HTTP functions both answer with it."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from orchestrations.access.apikeys import KEY_SCHEME as API_KEY_SCHEME
from orchestrations.access.links import link_key
from orchestrations.models import Instance

#: Where the HTTP API serves the management routes (orchestrations/api/urls.py; the OpenAPI
#: document's PREFIX is the same path, a test checks).
MANAGEMENT_PREFIX = "/runtime/webhooks/durabletask"
#: How long a client should wait before it polls a started instance, in seconds (Azure's value).
CHECK_STATUS_RETRY_AFTER = "10"
#: The query parameter a key travels in, as on Azure.
KEY_QUERY_PARAMETER = "code"


def management_urls(api_base_url: str, instance_id: str, key_in_url: str | None) -> dict[str, str]:
    """``api_base_url`` is the absolute URL of MANAGEMENT_PREFIX on this server; ``key_in_url``
    a key to carry in every link, so that they work as given. ``{eventName}`` and ``{text}``
    are placeholders for the client to fill in, as on Azure."""
    instance_url = f"{api_base_url}/instances/{quote(instance_id, safe='')}"
    key = f"{KEY_QUERY_PARAMETER}={quote(key_in_url, safe='')}" if key_in_url else ""

    def url(operation: str = "", query: str = "") -> str:
        parameters = "&".join(part for part in (query, key) if part)
        return f"{instance_url}{operation}" + (f"?{parameters}" if parameters else "")

    return {
        "id": instance_id,
        "statusQueryGetUri": url(),
        "sendEventPostUri": url("/raiseEvent/{eventName}"),
        "terminatePostUri": url("/terminate", "reason={text}"),
        "rewindPostUri": url("/rewind", "reason={text}"),
        "purgeHistoryDeleteUri": url(),
        "restartPostUri": url("/restart"),
        "suspendPostUri": url("/suspend", "reason={text}"),
        "resumePostUri": url("/resume", "reason={text}"),
    }


def check_status_headers(payload: dict[str, str]) -> dict[str, str]:
    """``Location`` is the status URL (the async HTTP pattern)."""
    return {"Location": payload["statusQueryGetUri"], "Retry-After": CHECK_STATUS_RETRY_AFTER}


def function_starter_key(instance_id: str, request_code: str | None, created_at: datetime | None) -> str | None:
    """The key in the links an HTTP function's durable client hands back: the caller's API key
    when one came in the request's ``code``, as the HTTP API's own starter does; otherwise, for
    an instance this client started (``created_at`` is when: the client keeps it), the
    instance's link key (orchestrations/access/links.py), so that the links work as given, as
    on Azure. For any other instance, no key: following its links needs an API key."""
    if request_code and request_code.startswith(API_KEY_SCHEME):
        return request_code
    return link_key(instance_id, created_at) if created_at is not None else None


def instance_created_at(instance_id: str) -> datetime | None:
    """When the instance now under ``instance_id`` was created; None if there is none."""
    return Instance.objects.filter(pk=instance_id).values_list("created_at", flat=True).first()


def with_key(url: str, key: str) -> str:
    """``url`` carrying ``key`` as its ``code``, in place of any it had."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    parameters = [
        (name, value) for name, value in parse_qsl(query, keep_blank_values=True) if name != KEY_QUERY_PARAMETER
    ]
    parameters.append((KEY_QUERY_PARAMETER, key))
    return urlunsplit((scheme, netloc, path, urlencode(parameters, safe="{}"), fragment))
