"""Timer schedules: each one, paused or not, its next five occurrences and its last runs, with
pause, resume and run now for those whose role allows."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from consoleapp import forms
from consoleapp.pages.common import live_url, require_permission
from functions.services import timers
from orchestrations.access.audit import Actor
from orchestrations.services import OrchestrationError

#: What each action's button does, and what the page says after it.
ACTIONS = ("pause", "resume", "run")


@login_required
@require_GET
def schedule_list(request: HttpRequest) -> HttpResponse:
    require_permission(request.user, "view_console")
    context = {"timers": timers.list_timers(), "nav": "functions", "live_url": live_url("schedules")}
    return render(request, "functions/schedules.html", context)


def render_schedules_live(user, csrf_token: str | None) -> str:
    """The schedules as pushed to an open page when one changed or a timer ran."""
    context = {"timers": timers.list_timers(), "user": user, "csrf_token": csrf_token, "oob": True}
    return render_to_string("functions/schedules.html#schedules-live", context)


@require_POST
@login_required
def schedule_action(request: HttpRequest, name: str, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404(f"timer schedules have no action {action!r}")
    require_permission(request.user, timers.PERMISSION)
    form = forms.TimerActionForm(request.POST)
    form.is_valid()  # One optional text.
    actor = Actor.for_user(request.user)
    reason = form.cleaned_data.get("reason") or None
    try:
        if action == "pause":
            changed = timers.pause(name, actor=actor, reason=reason)
            message = f"Paused the schedule of {name}." if changed else f"The schedule of {name} was paused already."
        elif action == "resume":
            changed = timers.resume(name, actor=actor, reason=reason)
            message = f"Resumed the schedule of {name}." if changed else f"The schedule of {name} was not paused."
        else:
            timers.run_now(name, actor=actor, reason=reason)
            message = f"Asked for a run of {name}: a worker runs it once."
    except timers.UnknownTimerError as error:
        raise Http404(str(error)) from None
    except OrchestrationError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, message)
    return redirect("schedules")
