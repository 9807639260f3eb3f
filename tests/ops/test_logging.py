"""Log lines never carry secrets or personal data (PLAT-06)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from servio.config import Settings
from servio.kit.context import request_id_var
from servio.kit.logging import REDACTED, configure_logging, get_logger, redact_text


def _settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"log_format": "json", "log_level": "INFO", "_env_file": None}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging(_settings(), stream=stream)
    yield stream
    configure_logging(_settings(log_format="text"))


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_sensitive_keys_are_redacted_at_any_depth(log_stream: io.StringIO) -> None:
    get_logger("servio.test").info(
        "login",
        pin="4321",
        password="hunter2",
        body={
            "payment": {"utr": "123456789012", "amount": 500},
            "headers": {"Authorization": "Bearer abc.def", "Cookie": "sid=1"},
        },
        attempts=[{"otp": "654321"}, {"access_token": "tok"}],
        user_email="a@b.co",
        amount=500,
    )
    line = log_stream.getvalue()
    for secret in (
        "4321",
        "hunter2",
        "123456789012",
        "abc.def",
        "sid=1",
        "654321",
        'tok"',
        "a@b.co",
    ):
        assert secret not in line
    entry = _lines(log_stream)[0]
    assert entry["pin"] == REDACTED
    assert entry["password"] == REDACTED
    assert entry["body"]["payment"]["utr"] == REDACTED
    assert entry["body"]["payment"]["amount"] == 500
    assert entry["body"]["headers"] == {"Authorization": REDACTED, "Cookie": REDACTED}
    assert entry["attempts"] == [{"otp": REDACTED}, {"access_token": REDACTED}]
    assert entry["user_email"] == REDACTED
    assert entry["amount"] == 500


def test_messages_have_contacts_and_payment_references_masked(log_stream: io.StringIO) -> None:
    get_logger("servio.test").warning(
        "guest priya.k@example.in called from +91 98765 43210 about UTR 412345678901"
    )
    entry = _lines(log_stream)[0]
    assert entry["event"] == "guest [email] called from [phone] about UTR [ref]"
    assert entry["level"] == "warning"
    assert entry["logger"] == "servio.test"
    assert entry["ts"].endswith("Z")


def test_standard_library_logs_go_through_the_same_scrubbing(log_stream: io.StringIO) -> None:
    logging.getLogger("some.library").error(
        "mail to %s failed", "owner@venue.example", extra={"token": "sekrit"}
    )
    entry = _lines(log_stream)[0]
    assert entry["event"] == "mail to [email] failed"
    assert entry["token"] == REDACTED
    assert entry["level"] == "error"


def test_exceptions_are_rendered_and_scrubbed(log_stream: io.StringIO) -> None:
    try:
        raise ValueError("card holder 9876543210 rejected")
    except ValueError:
        get_logger("servio.test").exception("payment failed")
    entry = _lines(log_stream)[0]
    assert "ValueError" in entry["exception"]
    assert "9876543210" not in entry["exception"]


def test_request_id_is_stamped_from_the_context(log_stream: io.StringIO) -> None:
    token = request_id_var.set("req-123")
    try:
        get_logger("servio.test").info("hello")
    finally:
        request_id_var.reset(token)
    assert _lines(log_stream)[0]["req_id"] == "req-123"


def test_level_filter_and_text_format() -> None:
    stream = io.StringIO()
    configure_logging(_settings(log_format="text", log_level="WARNING"), stream=stream)
    try:
        log = get_logger("servio.test")
        log.info("quiet")
        log.warning("loud", email="x@y.z")
        text = stream.getvalue()
        assert "quiet" not in text
        assert "loud" in text
        assert "x@y.z" not in text
        assert not text.lstrip().startswith("{")
    finally:
        configure_logging(_settings(log_format="text"))


def test_ids_and_timestamps_in_messages_survive() -> None:
    text = "order 01JD3Q5ZK7M0V6Y2T4X8N1B9CE at 2026-11-22T07:30:00Z for 3 items"
    assert redact_text(text) == text


_phones = st.builds(
    lambda cc, first, rest, sep: f"{cc}{first}{rest[:4]}{sep}{rest[4:]}",
    st.sampled_from(["", "+91 ", "+91", "+1 ", "0"]),
    st.sampled_from("6789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
    st.sampled_from(["", " ", "-"]),
)


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    email=st.emails(),
    phone=_phones,
    prefix=st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=20),
)
def test_random_contacts_never_survive_rendering(email: str, phone: str, prefix: str) -> None:
    stream = io.StringIO()
    configure_logging(_settings(), stream=stream)
    try:
        get_logger("servio.test").info(
            f"{prefix} contact {email} or {phone}.", note=f"call {phone}", nested={"who": [email]}
        )
    finally:
        structlog.reset_defaults()
        configure_logging(_settings(log_format="text"))
    line = stream.getvalue()
    digits = phone.replace(" ", "").replace("-", "").replace("+", "")
    assert email not in line
    assert json.dumps(email)[1:-1] not in line
    assert phone not in line
    assert digits not in line.replace(" ", "").replace("-", "")
