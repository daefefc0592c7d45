"""Failed logins are limited per account and per address: after PERDURA_LOGIN_FAILURE_LIMIT
failures (5 by default) within the cool-off (15 minutes), the login page refuses the account,
or anyone from that address, with a message saying why and for how long."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-password-9"
#: The defaults: 5 failures, then 15 minutes of cool-off.
LIMIT = 5
LOCKED_OUT = "Too many failed logins for this account or from this address; try again in 15 minutes."


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Every attempt checks a password; the default hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def vera(django_user_model):
    return django_user_model.objects.create_user("vera", password=PASSWORD)


def log_in(username: str, password: str, address: str = "192.0.2.1", **headers: str):
    return Client(REMOTE_ADDR=address, **headers).post(reverse("login"), {"username": username, "password": password})


def is_logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("overview")


def test_a_login_before_the_limit_works(vera):
    for _ in range(LIMIT - 1):
        assert log_in("vera", "wrong").status_code == 200

    assert is_logged_in(log_in("vera", PASSWORD))


def test_failures_for_one_account_from_many_addresses_lock_the_account(vera):
    for attempt in range(LIMIT):
        log_in("vera", "wrong", address=f"198.51.100.{attempt + 1}")

    refused = log_in("vera", PASSWORD, address="203.0.113.50")

    assert refused.status_code == 429
    assert LOCKED_OUT in refused.content.decode()
    assert "_auth_user_id" not in refused.client.session


def test_failures_from_one_address_lock_that_address_only(vera, django_user_model):
    for attempt in range(LIMIT):
        log_in(f"someone-{attempt}", "wrong", address="198.51.100.7")

    refused = log_in("vera", PASSWORD, address="198.51.100.7")

    assert refused.status_code == 429
    assert LOCKED_OUT in refused.content.decode()
    assert is_logged_in(log_in("vera", PASSWORD, address="198.51.100.8"))


def test_the_failure_that_reaches_the_limit_shows_the_message_on_the_login_page(vera):
    for _ in range(LIMIT - 1):
        log_in("vera", "wrong")

    page = log_in("vera", "wrong")

    assert page.status_code == 429
    content = page.content.decode()
    assert LOCKED_OUT in content
    assert 'name="password"' in content  # The login form, not a bare error.
    assert "didn't match" not in content


def test_x_forwarded_for_is_not_trusted_unless_told(vera):
    """A client could send any X-Forwarded-For it likes: by default the limit counts the address
    the connection came from."""
    for attempt in range(LIMIT):
        log_in(f"someone-{attempt}", "wrong", address="198.51.100.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}")

    assert log_in("vera", PASSWORD, address="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429
