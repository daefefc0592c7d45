"""The Durable Functions compatible HTTP management API.

The routes, status codes, headers and JSON of Azure's ``/runtime/webhooks/durabletask/`` API
(see ``docs/openapi.json``), so that clients and tools written against Azure Durable Functions
work against Perdura unchanged; plus the ``/api/orchestrators/`` HTTP starter that function
apps usually define. Requests authenticate with API keys (``auth.py``).
"""
