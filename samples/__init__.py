"""Runnable function apps, one per Durable Functions pattern; importing this package registers them all."""

from . import hello_sequence  # noqa: F401
