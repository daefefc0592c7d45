"""The door of HTTP-triggered functions: requests under ``/api/`` (PERDURA_HTTP_ROUTE_PREFIX)
routed to the function whose route template matches."""
