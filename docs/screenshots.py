"""Screenshots of the console for the README.

    .venv/bin/python docs/screenshots.py            # writes docs/screenshots/*.png

Starts a throwaway Perdura (its own SQLite file in a temporary directory, ``manage.py serve``
with in-process workers and the samples), fills it with an hour of work, and photographs the
overview, the instance list, an instance waiting for an approval, a fan-out's timeline and the
approvals inbox with Debian's Chromium through Playwright.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "screenshots-password"
VIEWPORT = {"width": 1360, "height": 900}


def main() -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="perdura-screenshots-"))
    os.environ.update(
        {
            "PERDURA_VAR_DIR": str(var_dir),
            "PERDURA_FUNCTION_APPS": "samples,samples.approval",
            "PERDURA_POLL_SECONDS": "0.1",
            "PERDURA_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "consoleapp.settings",
        }
    )
    sys.path.insert(0, str(REPO))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=REPO, check=True, capture_output=True)
    import django

    django.setup()
    make_people()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base)
        instances = make_an_hour_of_work()
        photograph(base, instances)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(f"screenshots written to {OUT}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_serving(base: str) -> None:
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{base}/login/", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("manage.py serve did not start")


def make_people() -> None:
    from django.contrib.auth.models import Group, User

    def person(username: str, *groups: str) -> None:
        user = User.objects.create_user(username, password=PASSWORD)
        user.groups.add(*(Group.objects.get_or_create(name=name)[0] for name in groups))

    User.objects.create_superuser("admin", "", PASSWORD)  # So that serve makes no admin of its own.
    person("ada", "admin", "warehouse")
    person("maria", "approver", "warehouse")


def make_an_hour_of_work() -> dict[str, str]:
    """Instances of several samples, finished ones spread over the last hour for the chart;
    returns the ids to photograph."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from entities import services as entities
    from orchestrations import services
    from orchestrations.access.audit import Actor
    from orchestrations.engine import EntityId
    from orchestrations.models import Approval, Instance
    from orchestrations.services import approvals

    rng = random.Random(7)
    cities = [services.start("hello_sequence5") for _ in range(140)]
    documents = [{"title": f"chapter {n}", "text": " ".join(["word"] * rng.randint(50, 900))} for n in range(1, 9)]
    fan_out = services.start("word_count_report", documents, instance_id="report-2026-11")
    for _ in range(10):
        services.start("word_count_report", documents[: rng.randint(2, 8)])
    for _ in range(4):
        services.start("word_count_report", [{"title": "scan.pdf"}])  # No text: the activity fails.
    for account, amount in (("alice", 100), ("bob", 20)):
        entities.signal(EntityId("account", account), "deposit", amount)
    for cents in (30, 45):
        services.start("transfer", {"source": "alice", "destination": "bob", "amount": cents})
    for key, visits in (("home-page", 5), ("pricing", 3)):
        services.start("count_visits", {"counter": key, "visits": visits})
    services.start(
        "track_shipment",
        {"shipment": "PKG-7731", "interval_seconds": 900, "expiry_seconds": 86400, "delivered_on_check": 6},
        instance_id="track-PKG-7731",
    )
    services.start("shopping_basket", {"customer": "grace"}, instance_id="basket-grace")
    orders = [
        ("A-1041", "Ada Lovelace", 3),
        ("A-1042", "Grace Hopper", 1),
        ("A-1043", "Edsger Dijkstra", 12),
        ("A-1044", "Barbara Liskov", 2),
        ("A-1045", "Alan Kay", 5),
    ]
    for order_id, customer, items in orders:
        services.start(
            "approve_shipment",
            {"order_id": order_id, "customer": customer, "items": items, "timeout_hours": 8},
            instance_id=f"order-{order_id}",
        )
    wait_for(lambda: Approval.objects.filter(status="pending").count() == len(orders))
    maria = User.objects.get(username="maria")
    for order_id, approved, comment in (
        ("A-1044", True, "Stock checked, ship it"),
        ("A-1045", False, "Address incomplete"),
    ):
        approval = Approval.objects.get(instance_id=f"order-{order_id}")
        approvals.decide(approval.pk, approved=approved, comment=comment, user=maria, actor=Actor.for_user(maria))
    wait_for(lambda: not Instance.objects.filter(runtime_status="Pending").exists())
    wait_for(lambda: Instance.objects.filter(name="hello_sequence5", runtime_status="Completed").count() == len(cities))
    wait_for(lambda: Instance.objects.get(pk=fan_out).is_terminal)

    # Spread the finished greetings over the last hour, so the chart has an hour to show.
    now = timezone.now()
    for instance_id in cities:
        created = now - timedelta(minutes=rng.uniform(1, 59))
        Instance.objects.filter(pk=instance_id).update(
            created_at=created, completed_at=created + timedelta(milliseconds=rng.randint(300, 2400))
        )
    return {"waiting": "order-A-1041", "fan_out": fan_out}


def wait_for(condition, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("the sample instances did not get where they should")
        time.sleep(0.2)


def photograph(base: str, instances: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(viewport=VIEWPORT, device_scale_factor=1).new_page()
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", "ada")
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base}/")
        shots = [
            ("overview", "/", True),
            ("instances", "/orchestrations/", False),
            ("instance", f"/instances/{instances['waiting']}/", True),
            ("timeline", f"/instances/{instances['fan_out']}/", False),
            ("approvals", "/approvals/", True),
        ]
        for name, path, full_page in shots:
            page.goto(f"{base}{path}")
            page.wait_for_selector("#live-status[data-state=live]")
            page.wait_for_timeout(600)  # The first live push lands; nothing moves after it.
            if name == "timeline":
                page.locator("section[id$=-timeline]").scroll_into_view_if_needed()
                page.locator("section[id$=-timeline]").screenshot(path=OUT / f"{name}.png")
            else:
                page.screenshot(path=OUT / f"{name}.png", full_page=full_page)
        browser.close()


if __name__ == "__main__":
    main()
