"""Runnable function apps, one per Durable Functions pattern and per trigger; importing this
package registers them all."""

from __future__ import annotations

from samples import (  # noqa: F401  (importing registers each sample app)
    aggregator,
    approval,
    async_http_api,
    bank,
    choreography,
    counter,
    dynamic_pipeline,
    eternal,
    external_events,
    fan_out_fan_in,
    hello_sequence,
    http_approval,
    human_interaction,
    monitor,
    order_queue,
    scheduled_report,
)
