"""Routes of the HTTP API. A trailing slash is optional everywhere, as on Azure. Ids arrive
URL-decoded; an event name or an entity key may even hold a slash (sent as %2F)."""

from __future__ import annotations

from django.urls import include, re_path

from orchestrations.api import admin_functions, entity_views, views
from orchestrations.api.endpoints import not_found

ID = r"[^/]+"
#: Any characters, slashes and newlines too (what %2F and %0A decode to); ``\Z``, not ``$``,
#: ends the patterns, since ``$`` also matches before a final newline.
ANY = r"[\s\S]+?"

routes = [
    re_path(rf"^orchestrators/(?P<function_name>{ID})/?\Z", views.orchestrators),
    re_path(rf"^orchestrators/(?P<function_name>{ID})/(?P<instance_id>{ID})/?\Z", views.orchestrators),
    re_path(r"^instances/?\Z", views.instances),
    re_path(rf"^instances/(?P<instance_id>{ID})/?\Z", views.instance),
    re_path(rf"^instances/(?P<instance_id>{ID})/raiseEvent/(?P<event_name>{ANY})/?\Z", views.instance_raise_event),
    re_path(rf"^instances/(?P<instance_id>{ID})/terminate/?\Z", views.instance_terminate),
    re_path(rf"^instances/(?P<instance_id>{ID})/suspend/?\Z", views.instance_suspend),
    re_path(rf"^instances/(?P<instance_id>{ID})/resume/?\Z", views.instance_resume),
    re_path(rf"^instances/(?P<instance_id>{ID})/rewind/?\Z", views.instance_rewind),
    re_path(rf"^instances/(?P<instance_id>{ID})/restart/?\Z", views.instance_restart),
    re_path(r"^entities/?\Z", entity_views.entity_list),
    re_path(rf"^entities/(?P<entity_name>{ID})/?\Z", entity_views.entity_list),
    re_path(rf"^entities/(?P<entity_name>{ID})/(?P<entity_key>{ANY})/?\Z", entity_views.entity),
    re_path(r"^openapi\.json\Z", views.openapi_json),
    re_path(r"", not_found),
]

urlpatterns = [
    # The official Python client's base URL, with the key in the path (see auth.py). First, so
    # that the catch-all of the plain prefix does not take it.
    re_path(rf"^runtime/webhooks/durabletask/sdk/(?P<path_key>{ID})/", include(routes)),
    re_path(r"^runtime/webhooks/durabletask/", include(routes)),
    # The HTTP starter that Azure function apps usually define (the "HttpStart" template).
    re_path(rf"^api/orchestrators/(?P<function_name>{ID})/?\Z", views.orchestrators),
    re_path(rf"^api/orchestrators/(?P<function_name>{ID})/(?P<instance_id>{ID})/?\Z", views.orchestrators),
    re_path(r"^api/orchestrators/", not_found),
    # Azure's admin endpoint for running a non-HTTP function by hand.
    re_path(rf"^admin/functions/(?P<name>{ID})/?\Z", admin_functions.run_function_view, name="admin-run-function"),
]
