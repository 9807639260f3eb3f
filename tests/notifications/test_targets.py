"""Targets people type: phones, e-mail lists, webhook URLs (SSRF guard), and their masks."""

from __future__ import annotations

import pytest

from servio.config import Settings
from servio.notifications.targets import (
    InvalidTarget,
    mask_target,
    normalize_emails,
    normalize_phone,
    normalize_webhook_url,
)

DEV = Settings(app_env="dev")
PROD = Settings(app_env="prod", secret_key="x" * 40, metrics_token="t")


def test_phones_are_normalized_to_e164() -> None:
    assert normalize_phone("+91 98765-43210") == "+919876543210"
    assert normalize_phone("+1 (415) 555 0100") == "+14155550100"
    for bad in ("9876543210", "+0 123", "+91abc", "", "+1234567890123456"):
        with pytest.raises(InvalidTarget):
            normalize_phone(bad)


def test_email_lists() -> None:
    assert normalize_emails(" a@x.in; b@y.example ") == "a@x.in, b@y.example"
    for bad in ("", "not-an-address", "a@x.in, <b@y.in>", ",".join(["a@x.in"] * 11)):
        with pytest.raises(InvalidTarget):
            normalize_emails(bad)


def test_webhook_urls_in_development_may_point_at_local_receivers() -> None:
    assert (
        normalize_webhook_url("http://127.0.0.1:9000/hook#x", DEV) == "http://127.0.0.1:9000/hook"
    )
    assert normalize_webhook_url("https://hooks.example.com", DEV) == "https://hooks.example.com/"
    for bad in ("ftp://x.example/", "https://user:pw@x.example/", "hooks.example.com", ""):
        with pytest.raises(InvalidTarget):
            normalize_webhook_url(bad, DEV)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://db.localhost/hook",
        "http://hooks.example.com/",  # plain http in production
    ],
)
def test_production_refuses_private_loopback_metadata_and_plain_http(url: str) -> None:
    with pytest.raises(InvalidTarget):
        normalize_webhook_url(url, PROD)


def test_production_can_opt_in_to_private_targets() -> None:
    settings = PROD.model_copy(update={"webhook_allow_private_targets": True})
    assert normalize_webhook_url("https://10.0.0.5/hook", settings) == "https://10.0.0.5/hook"


def test_masks_hide_numbers_local_parts_and_query_strings() -> None:
    assert mask_target("whatsapp", "+919876543210") == "…3210"
    assert mask_target("sms", "+14155550100") == "…0100"
    assert mask_target("email", "owner@cafe.in, b@y.in") == "o…@cafe.in, b…@y.in"
    assert (
        mask_target("webhook", "https://u@hooks.example.com:8443/in?token=abc")
        == "https://hooks.example.com:8443/in"
    )
    assert mask_target("console", "") == ""
