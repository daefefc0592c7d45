from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import include, path

from consoleapp import views
from entities import views as entity_views
from functions import views as function_views
from orchestrations import views as orchestration_views

console = [
    path("", views.overview, name="overview"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Orchestrations.
    path("orchestrations/", orchestration_views.instance_list, name="instances"),
    path("orchestrations/bulk/", orchestration_views.bulk_action, name="bulk-action"),
    path("orchestrations/start/", orchestration_views.start_form, name="start-form"),
    path("orchestrations/start/run/", orchestration_views.start, name="start"),
    path("instances/<str:instance_id>/", orchestration_views.instance_detail, name="instance"),
    path("instances/<str:instance_id>/history/", orchestration_views.instance_history, name="instance-history"),
    path(
        "instances/<str:instance_id>/history/<int:event_id>/",
        orchestration_views.history_event,
        name="history-event",
    ),
    path(
        "instances/<str:instance_id>/history/<int:event_id>/download/<str:part>/",
        orchestration_views.history_event_download,
        name="history-event-download",
    ),
    path(
        "instances/<str:instance_id>/download/<str:part>/",
        orchestration_views.instance_download,
        name="instance-download",
    ),
    path("instances/<str:instance_id>/raise-event/", orchestration_views.raise_event, name="raise-event"),
    path("instances/<str:instance_id>/terminate/", orchestration_views.terminate, name="terminate"),
    path("instances/<str:instance_id>/suspend/", orchestration_views.suspend, name="suspend"),
    path("instances/<str:instance_id>/resume/", orchestration_views.resume, name="resume"),
    path("instances/<str:instance_id>/rewind/", orchestration_views.rewind, name="rewind"),
    path("instances/<str:instance_id>/restart/", orchestration_views.restart, name="restart"),
    path("instances/<str:instance_id>/purge/", orchestration_views.purge, name="purge"),
    path("approvals/", orchestration_views.approvals_inbox, name="approvals"),
    path("approvals/<int:approval_id>/decide/", orchestration_views.decide_approval, name="decide-approval"),
    path("approvals/<int:approval_id>/download/", orchestration_views.approval_download, name="approval-download"),
    # Entities: ids look like @name@key, and a key may hold any character, slashes included.
    path("entities/", entity_views.entity_list, name="entities"),
    path("entities/signal/", entity_views.signal, name="signal-entity"),
    path("entities/delete/<path:entity_id>", entity_views.delete, name="delete-entity"),
    path("entities/download/<path:entity_id>", entity_views.download_state, name="entity-download"),
    path("entities/<path:entity_id>", entity_views.entity_detail, name="entity"),
    # Function apps.
    path("functions/", function_views.function_apps, name="functions"),
    path("functions/executions/", function_views.executions, name="executions"),
    path("functions/executions/<int:execution_id>/", function_views.execution_detail, name="execution"),
    path(
        "functions/executions/<int:execution_id>/download/<str:part>/",
        function_views.execution_download,
        name="execution-download",
    ),
    # The console's own pages.
    path("audit/", views.audit_log, name="audit-log"),
    path("workers/", views.workers, name="workers"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/create/", views.create_api_key, name="create-api-key"),
    path("api-keys/<str:prefix>/revoke/", views.revoke_api_key, name="revoke-api-key"),
    path("users/", views.users, name="users"),
    path("users/create/", views.create_user, name="create-user"),
    path("users/<int:user_id>/roles/", views.set_user_roles, name="set-user-roles"),
]

# The simulated export service of the async_http_api sample, only where the samples are loaded:
# it is a stand-in for somebody else's service, with no login.
samples = [path("samples/", include("samples.urls"))] if "samples" in settings.PERDURA_FUNCTION_APPS else []

urlpatterns = [
    *console,
    path("healthz", views.healthz, name="healthz"),
    *samples,
    path("", include("orchestrations.api.urls")),
]
