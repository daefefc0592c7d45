"""Durable queues in the console: every queue's depth, oldest message and poison count (live),
one queue's messages and its poison queue's, and putting, requeueing and purging."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
from consoleapp.pages.common import live_url, require_permission
from functions.services import queues
from functions.store.queues import is_poison_queue, poison_queue_name
from orchestrations.access.audit import Actor

#: Messages shown of a queue and of its poison queue.
PEEKED = 50


def _get_queue_for_user(request: HttpRequest, name: str, codename: str = "view_console") -> queues.QueueSummary:
    require_permission(request.user, codename)
    try:
        return queues.get_summary(name)
    except queues.QueueError as error:
        raise Http404(str(error)) from None


@login_required
@require_GET
def queue_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = {**list_context(), "chosen_queue": request.GET.get("queue", ""), "live_url": live_url("queues")}
    return render(request, "functions/queues.html", context)


def list_context() -> dict:
    summaries = queues.list_queues()
    return {
        "queues": summaries,
        "writable_queues": [summary.name for summary in summaries if not summary.is_poison],
        "now": timezone.now(),
        "nav": "queues",
    }


def render_list_live(user, csrf_token: str | None) -> str:
    context = {**list_context(), "user": user, "csrf_token": csrf_token, "oob": True}
    return render_to_string("functions/queues.html#queues-table", context)


@login_required
@require_GET
def queue_detail(request: HttpRequest, name: str) -> HttpResponse:
    summary = _get_queue_for_user(request, name)
    context = {**detail_context(summary), "live_url": live_url("queue", [("name", summary.name)])}
    return render(request, "functions/queue.html", context)


def detail_context(summary: queues.QueueSummary) -> dict:
    poison = None if summary.is_poison else summary.poison_queue
    return {
        "queue": summary,
        "peeked": queues.peek(summary.name, PEEKED),
        "poison_peeked": queues.peek(poison, PEEKED) if poison else [],
        "now": timezone.now(),
        "nav": "queues",
    }


def render_detail_live(name: str, user, csrf_token: str | None) -> str:
    try:
        summary = queues.get_summary(name)
    except queues.QueueError:
        return ""
    context = {**detail_context(summary), "user": user, "csrf_token": csrf_token, "oob": True}
    return render_to_string("functions/queue.html#queue-live", context)


def concerns(page_queue: str, changed: set[str]) -> bool:
    """Whether a change to ``changed`` queues shows on the page of ``page_queue`` (its poison queue's too)."""
    return page_queue in changed or (not is_poison_queue(page_queue) and poison_queue_name(page_queue) in changed)


@require_POST
@login_required
def put_message(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "put_queue_message")
    form = forms.QueueMessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, forms.first_error(form))
        return redirect(f"{reverse('queues')}?queue={form['queue'].value() or ''}")
    try:
        message = queues.put(
            form.cleaned_data["queue"], form.cleaned_data["message"], actor=Actor.for_user(request.user)
        )
    except queues.QueueError as error:
        messages.error(request, str(error))
        return redirect("queues")
    messages.success(request, f"Put message {message.message_id} on {message.queue}.")
    return redirect("queue", message.queue)


@require_POST
@login_required
def requeue_poison(request: HttpRequest, name: str) -> HttpResponse:
    summary = _get_queue_for_user(request, name, "put_queue_message")
    form = forms.QueueCommandForm(request.POST)
    form.is_valid()  # One optional text.
    try:
        moved = queues.requeue_poison(summary.name, actor=Actor.for_user(request.user), reason=form.reason_given)
    except queues.QueueError as error:
        messages.error(request, str(error))
        return redirect("queue", summary.name)
    messages.success(request, f"Moved {moved} message{'' if moved == 1 else 's'} back to {summary.name}.")
    return redirect("queue", summary.name)


@require_POST
@login_required
def purge(request: HttpRequest, name: str) -> HttpResponse:
    summary = _get_queue_for_user(request, name, "purge_queue")
    form = forms.QueueCommandForm(request.POST)
    form.is_valid()  # One optional text.
    try:
        deleted = queues.purge(summary.name, actor=Actor.for_user(request.user), reason=form.reason_given)
    except queues.QueueError as error:
        messages.error(request, str(error))
        return redirect("queue", summary.name)
    messages.success(request, f"Deleted {deleted} message{'' if deleted == 1 else 's'} from {summary.name}.")
    return redirect("queue", summary.name)
