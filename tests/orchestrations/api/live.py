"""A small HTTP client for the live server (standard library only): every answer, errors
included, comes back as a Reply whose body must be JSON."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

PREFIX = "/runtime/webhooks/durabletask"
_NO_BODY = object()


def segment(value: str) -> str:
    """A path segment, URL-encoded (a slash too)."""
    return quote(value, safe="")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class LiveApi:
    def __init__(self, base_url: str, key: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        json_body: Any = _NO_BODY,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        use_key_header: bool = True,
    ) -> Reply:
        """``path`` is already URL-encoded; ``json_body`` is sent as application/json."""
        url = self.base_url + path + (f"?{urlencode(query)}" if query else "")
        request_headers = dict(headers or {})
        if self.key and use_key_header:
            request_headers.setdefault("x-functions-key", self.key)
        if json_body is not _NO_BODY:
            body = json.dumps(json_body).encode()
            request_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(url, data=body, headers=request_headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return _reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            return _reply(error.code, error.headers, error.read())

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.call("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.call("DELETE", path, **kwargs)

    # The routes, with their ids encoded.

    def start(self, function_name: str, instance_id: str | None = None, **kwargs: Any) -> Reply:
        path = f"{PREFIX}/orchestrators/{segment(function_name)}"
        if instance_id is not None:
            path += f"/{segment(instance_id)}"
        return self.post(path, **kwargs)

    def instance_path(self, instance_id: str, operation: str = "") -> str:
        return f"{PREFIX}/instances/{segment(instance_id)}" + (f"/{operation}" if operation else "")

    def status(self, instance_id: str, **query: Any) -> Reply:
        return self.get(self.instance_path(instance_id), query=query or None)

    def command(self, instance_id: str, operation: str, **query: Any) -> Reply:
        return self.post(self.instance_path(instance_id, operation), query=query or None)

    def raise_event(self, instance_id: str, event_name: str, data: Any = None, **kwargs: Any) -> Reply:
        path = self.instance_path(instance_id, f"raiseEvent/{segment(event_name)}")
        return self.post(path, json_body=data, **kwargs)

    def entity_path(self, name: str, key: str | None = None) -> str:
        return f"{PREFIX}/entities/{segment(name)}" + (f"/{segment(key)}" if key is not None else "")


def _reply(status: int, headers, raw: bytes) -> Reply:
    return Reply(status, {name.lower(): value for name, value in headers.items()}, raw.decode())
