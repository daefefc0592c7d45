"""The live console in a real browser: an approval from start to finish without a reload, user
data that stays text, and a page that catches up after its websocket dropped."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from orchestrations import services
from orchestrations.models import Instance
from tests.e2e.conftest import log_in, open_live, was_not_reloaded

pytestmark = [pytest.mark.browser, pytest.mark.slow]

XSS = "<img src=x onerror=alert(1)>"
# ms: far more than the half second a change needs to reach a page once workers run; worker
# processes still starting on a loaded machine (CI's services run) take far longer.
LIVE = 30_000


def test_an_approval_from_start_to_audit_log_without_reloading(console, make_person, browser_context):
    make_person("ada", "admin", "warehouse")
    log_in(browser_context, console, "ada")
    instances = open_live(browser_context, console, "/orchestrations/")
    inbox = open_live(browser_context, console, "/approvals/")

    # Start the approval sample from the start form.
    start = browser_context.new_page()
    start.goto(f"{console.url}/orchestrations/start/")
    start.select_option("select[name=name]", "approve_shipment")
    start.fill("input[name=instance_id]", "order-E2E-1")
    start.fill("textarea[name=input]", json.dumps({"order_id": "E2E-1", "items": 2, "customer": "Ada"}))
    start.get_by_role("button", name="Start", exact=True).click()
    start.wait_for_url("**/instances/order-E2E-1/")
    start.wait_for_selector("#live-status[data-state=live]")
    start.evaluate("window.notReloaded = true")
    instance = start

    # It appears in the list and in the inbox without a reload.
    row = instances.locator("tr", has=instances.locator("a", has_text="order-E2E-1"))
    expect(row).to_be_visible(timeout=LIVE)
    expect(inbox.get_by_role("heading", name="Ship order E2E-1?")).to_be_visible(timeout=LIVE)
    expect(row.locator(".badge")).to_have_text("Running", timeout=LIVE)
    expect(instance.locator(".instance-header .badge")).to_have_text("Running", timeout=LIVE)
    assert was_not_reloaded(instances) and was_not_reloaded(inbox)

    # Approve it with a comment.
    card = inbox.locator("article", has_text="Ship order E2E-1?")
    card.locator("textarea[name=comment]").fill("Packed and labelled, ship it")
    card.get_by_role("button", name="Approve").click()
    expect(inbox.locator(".message.success")).to_contain_text("Approved: Ship order E2E-1?")

    # The instance page and the list see it complete, still without a reload.
    expect(instance.locator(".instance-header .badge")).to_have_text("Completed", timeout=LIVE)
    expect(row.locator(".badge")).to_have_text("Completed", timeout=LIVE)
    expect(instance.locator("#history")).to_contain_text("ApprovalDecided")
    expect(instance.locator("section[id$=-data]")).to_contain_text("order E2E-1 dispatched, approved by ada")
    assert was_not_reloaded(instance) and was_not_reloaded(instances)
    decision = json.loads(Instance.objects.get(pk="order-E2E-1").output)["decision"]
    assert (decision["approved"], decision["by"], decision["comment"]) == (True, "ada", "Packed and labelled, ship it")

    # The decision is in the audit log.
    audit = browser_context.new_page()
    audit.goto(f"{console.url}/audit/?action=approve")
    entry = audit.locator("tbody tr").first
    expect(entry).to_contain_text("ada")
    expect(entry).to_contain_text("Packed and labelled, ship it")


def test_user_data_is_shown_as_text_and_never_run(console, make_person, browser_context):
    make_person("vera", "viewer")
    instance_id = f"xss-{XSS}"
    services.start("echo_orchestrator", {"note": XSS}, instance_id=instance_id)
    assert services.wait_for_completion(instance_id, timeout=20).runtime_status == "Completed"
    # No sample sets a custom status from its input; the console shows whatever is stored.
    Instance.objects.filter(pk=instance_id).update(custom_status=json.dumps({"stage": XSS}))
    page = log_in(browser_context, console, "vera")

    page.goto(f"{console.url}/orchestrations/")
    link = page.get_by_role("link", name=instance_id)
    expect(link).to_be_visible()
    expect(page.locator("#instances-table")).to_contain_text(XSS)
    link.click()
    expect(page.locator(".instance-header .badge")).to_have_text("Completed", timeout=LIVE)
    data = page.locator("section[id$=-data]")
    expect(data.locator(".json-panel", has_text="Output")).to_contain_text(XSS)
    expect(data.locator(".json-panel", has_text="Custom status")).to_contain_text(XSS)
    page.locator("#history details").first.click()
    expect(page.locator("#history .event-detail").first).to_contain_text("note")

    assert page.locator("main img").count() == 0
    assert browser_context.dialogs == []


def test_a_page_catches_up_after_its_websocket_dropped(console, make_person, browser_context):
    make_person("vera", "viewer")
    services.start("wait_for_approval", None, instance_id="waiting")
    log_in(browser_context, console, "vera")
    page = open_live(browser_context, console, "/instances/waiting/")
    expect(page.locator(".instance-header .badge")).to_have_text("Running", timeout=LIVE)

    # The server goes away; meanwhile the instance gets its event. Back up, the workers finish it.
    console.stop()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "off", timeout=LIVE)
    services.raise_event("waiting", "approval", {"approved": True})
    console.start()

    # The ws extension reconnects with backoff (up to a few seconds here), and the first push
    # after reconnecting brings the page up to date.
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=20_000)
    expect(page.locator(".instance-header .badge")).to_have_text("Completed", timeout=LIVE)
    assert was_not_reloaded(page)
