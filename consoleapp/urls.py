from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from consoleapp.pages import (
    api_keys,
    approvals,
    audit_log,
    entities,
    function_keys,
    functions,
    health,
    instance,
    instances,
    metrics,
    overview,
    queues,
    schedules,
    start,
    users,
    workers,
)

console = [
    path("", overview.overview, name="overview"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Orchestrations.
    path("orchestrations/", instances.instance_list, name="instances"),
    path("orchestrations/bulk/", instances.bulk_action, name="bulk-action"),
    path("orchestrations/start/", start.start_form, name="start-form"),
    path("orchestrations/start/run/", start.start, name="start"),
    path("instances/<str:instance_id>/", instance.instance_detail, name="instance"),
    path("instances/<str:instance_id>/history/", instance.instance_history, name="instance-history"),
    path(
        "instances/<str:instance_id>/history/<int:event_id>/",
        instance.history_event,
        name="history-event",
    ),
    path(
        "instances/<str:instance_id>/history/<int:event_id>/download/<str:part>/",
        instance.history_event_download,
        name="history-event-download",
    ),
    path(
        "instances/<str:instance_id>/download/<str:part>/",
        instance.instance_download,
        name="instance-download",
    ),
    path("instances/<str:instance_id>/raise-event/", instance.raise_event, name="raise-event"),
    path("instances/<str:instance_id>/terminate/", instance.terminate, name="terminate"),
    path("instances/<str:instance_id>/suspend/", instance.suspend, name="suspend"),
    path("instances/<str:instance_id>/resume/", instance.resume, name="resume"),
    path("instances/<str:instance_id>/rewind/", instance.rewind, name="rewind"),
    path("instances/<str:instance_id>/restart/", instance.restart, name="restart"),
    path("instances/<str:instance_id>/purge/", instance.purge, name="purge"),
    path("approvals/", approvals.approvals_inbox, name="approvals"),
    path("approvals/<int:approval_id>/decide/", approvals.decide_approval, name="decide-approval"),
    path("approvals/<int:approval_id>/download/", approvals.approval_download, name="approval-download"),
    # Entities: ids look like @name@key, and a key may hold any character, slashes included.
    path("entities/", entities.entity_list, name="entities"),
    path("entities/signal/", entities.signal, name="signal-entity"),
    path("entities/delete/<path:entity_id>", entities.delete, name="delete-entity"),
    path("entities/download/<path:entity_id>", entities.download_state, name="entity-download"),
    path("entities/<path:entity_id>", entities.entity_detail, name="entity"),
    # Function apps.
    path("functions/", functions.function_list, name="functions"),
    path("functions/invocations/<int:invocation_id>/", functions.invocation_detail, name="invocation"),
    path(
        "functions/invocations/<int:invocation_id>/download/<str:part>/",
        functions.invocation_download,
        name="invocation-download",
    ),
    path("functions/schedules/", schedules.schedule_list, name="schedules"),
    path("functions/schedules/<str:name>/<str:action>/", schedules.schedule_action, name="schedule-action"),
    path("functions/keys/", function_keys.function_keys, name="function-keys"),
    path("functions/keys/create/", function_keys.create_function_key, name="create-function-key"),
    path("functions/keys/<str:prefix>/revoke/", function_keys.revoke_function_key, name="revoke-function-key"),
    # Addresses of the pages from before invocations were called so.
    path("functions/executions/", RedirectView.as_view(pattern_name="functions", permanent=True)),
    path(
        "functions/executions/<int:invocation_id>/",
        RedirectView.as_view(pattern_name="invocation", permanent=True),
    ),
    path("functions/<str:name>/", functions.function_detail, name="function"),
    path("functions/<str:name>/run/", functions.run_function, name="run-function"),
    # Queues: under a prefix of their own, so that no function's name can shadow them.
    path("queues/", queues.queue_list, name="queues"),
    path("queues/put/", queues.put_message, name="put-queue-message"),
    path("queues/<str:name>/", queues.queue_detail, name="queue"),
    path("queues/<str:name>/requeue/", queues.requeue_poison, name="requeue-poison"),
    path("queues/<str:name>/purge/", queues.purge, name="purge-queue"),
    # The console's own pages.
    path("audit/", audit_log.audit_log, name="audit-log"),
    path("workers/", workers.workers, name="workers"),
    path("monitoring/", metrics.metrics_page, name="monitoring"),
    path("api-keys/", api_keys.api_keys, name="api-keys"),
    path("api-keys/create/", api_keys.create_api_key, name="create-api-key"),
    path("api-keys/<str:prefix>/revoke/", api_keys.revoke_api_key, name="revoke-api-key"),
    path("users/", users.users, name="users"),
    path("users/create/", users.create_user, name="create-user"),
    path("users/<int:user_id>/roles/", users.set_user_roles, name="set-user-roles"),
]

# The simulated export service of the async_http_api sample, only where the samples are loaded:
# it is a stand-in for somebody else's service, with no login.
samples = [path("samples/", include("samples.urls"))] if "samples" in settings.PERDURA_FUNCTION_APPS else []

urlpatterns = [
    *console,
    path("healthz", health.healthz, name="healthz"),
    path("", include("orchestrations.api.metrics_urls")),
    *samples,
    # Before the API's routes, so that none of its patterns can take these paths.
    path("", include("orchestrations.api.queue_api")),
    # HTTP functions first: a user's route takes precedence over the HTTP API's built-in
    # starter under /api/orchestrators/; a path no function claims goes on to the API.
    path("", include("functions.http.urls")),
    path("", include("orchestrations.api.urls")),
    path("", include("functions.http.fallback_urls")),
]
