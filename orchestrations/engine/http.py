"""The durable HTTP call's request and response shapes (the I/O itself runs in a worker)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: The name of the built-in activity that performs a durable HTTP request, as in Durable Functions.
HTTP_ACTIVITY_NAME = "BuiltIn::HttpActivity"


@dataclass(frozen=True)
class DurableHttpResponse:
    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    content: str | None = None

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DurableHttpResponse:
        return cls(int(raw["status_code"]), dict(raw.get("headers") or {}), raw.get("content"))

    def to_dict(self) -> dict[str, Any]:
        return {"status_code": self.status_code, "headers": self.headers, "content": self.content}

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == lowered), None)

    def retry_after_seconds(self, default: float) -> float:
        value = self.header("Retry-After")
        try:
            return max(float(value), 0.0) if value is not None else default
        except ValueError:
            return default
