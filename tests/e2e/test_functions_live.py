"""The functions console in a real browser: a queue message put from the console runs its
function, whose page shows the invocation live, without a reload, and its logs."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, open_live, was_not_reloaded

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# ms: a queue message is run by the next worker pass, then pushed to the page; worker processes
# still starting on a loaded machine (CI's services run) take far longer.
LIVE = 30_000
MESSAGE = "hello from the browser <b>not bold</b>"


def test_a_message_put_from_the_console_shows_up_live_on_its_functions_page(console, make_person, browser_context):
    make_person("ada", "operator")
    queues = log_in(browser_context, console, "ada")
    function_page = open_live(browser_context, console, "/functions/queues_echo/")
    expect(function_page.locator("tr[id^=invocation-]")).to_have_count(0)

    queues.goto(f"{console.url}/queues/")
    queues.fill("input[name=queue]", "tests-queues-echo")
    queues.fill("textarea[name=message]", MESSAGE)
    queues.get_by_role("button", name="Put").click()
    expect(queues.locator(".message.success")).to_contain_text("on tests-queues-echo")

    row = function_page.locator("tr[id^=invocation-]").first
    expect(row).to_contain_text("Completed", timeout=LIVE)
    assert was_not_reloaded(function_page)

    row.get_by_role("link", name="queues_echo").click()
    logs = function_page.locator("#invocation-logs")
    expect(logs).to_contain_text(f"got {MESSAGE} on delivery 1")
    expect(function_page.locator("#invocation-input")).to_contain_text(MESSAGE)
    assert function_page.locator("#invocation-logs b").count() == 0
    assert browser_context.dialogs == []
