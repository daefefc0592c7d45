"""The invocation recorder: a flush returns only once every row recorded before it is written,
also while another flush (the background thread's) is writing them."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.utils import timezone

from functions.models import Invocation
from functions.worker import recorder

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_flush_waits_for_the_rows_another_flush_is_writing(monkeypatch):
    recorder.flush()
    writing, release = threading.Event(), threading.Event()
    real_write = recorder._write

    def slow_write(rows):
        if rows:
            writing.set()
            release.wait(5)
        return real_write(rows)

    monkeypatch.setattr(recorder, "_write", slow_write)
    row = Invocation(function_name="slowly", trigger="http", worker="web:test", started_at=timezone.now())
    with recorder._lock:  # Recorded without starting the background thread.
        recorder._buffer.append(row)

    def background_flush():
        try:
            recorder.flush()
        finally:
            connections.close_all()

    other = threading.Thread(target=background_flush)
    other.start()
    assert writing.wait(5)
    done = threading.Event()
    waiter = threading.Thread(target=lambda: (recorder.flush(), done.set()))
    waiter.start()
    assert not done.wait(0.2)  # Blocked behind the write in progress...
    release.set()
    other.join(5)
    waiter.join(5)
    assert done.is_set()  # ...and returned once it was written.
    assert Invocation.objects.filter(function_name="slowly").count() == 1
