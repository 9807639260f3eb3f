"""Standard Webhooks signatures: our signer against the reference library, rotation with two
secrets, and the receiver-side check."""

from __future__ import annotations

import base64
import time

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from servio.notifications.signing import (
    SECRET_PREFIX,
    new_signing_secret,
    secret_hint,
    sign,
    signature_headers,
    verify,
)

NOW = 1_764_806_400


def test_new_secrets_are_random_192_bit_whsec_keys() -> None:
    secrets = {new_signing_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert secret.startswith(SECRET_PREFIX)
        assert len(base64.b64decode(secret.removeprefix(SECRET_PREFIX))) == 24
    secret = next(iter(secrets))
    assert secret_hint(secret) == f"whsec_…{secret[-4:]}"
    assert secret[len(SECRET_PREFIX) : -4] not in secret_hint(secret)


@given(
    data=st.dictionaries(
        st.text(max_size=20), st.integers(-(2**53), 2**53) | st.text(max_size=40), max_size=8
    ),
    message_id=st.from_regex(r"msg_[0-9A-Z]{26}", fullmatch=True),
)
def test_the_reference_library_verifies_what_we_sign(
    data: dict[str, int | str], message_id: str
) -> None:
    body = orjson.dumps(data)  # the library parses the body as JSON
    secret = new_signing_secret()
    headers = signature_headers([secret], message_id, NOW, body)
    assert headers["webhook-id"] == message_id
    assert headers["webhook-timestamp"] == str(NOW)
    # The library checks the timestamp against the wall clock, so sign "now" for it.
    live = signature_headers([secret], message_id, int(time.time()), body)
    Webhook(secret).verify(body, live)
    assert verify(secret, headers, body, now=NOW)


def test_during_a_rotation_either_secret_verifies_and_a_stranger_does_not() -> None:
    current, previous, stranger = (new_signing_secret() for _ in range(3))
    body = b'{"event":"order.placed"}'
    headers = signature_headers([current, previous], "msg_1", int(time.time()), body)
    assert len(headers["webhook-signature"].split()) == 2
    Webhook(current).verify(body, headers)
    Webhook(previous).verify(body, headers)
    try:
        Webhook(stranger).verify(body, headers)
    except WebhookVerificationError:
        pass
    else:  # pragma: no cover - the assertion below explains the failure
        raise AssertionError("a stranger's secret verified the signature")


def test_verify_refuses_tampering_old_timestamps_and_missing_headers() -> None:
    secret = new_signing_secret()
    body = b'{"a":1}'
    headers = signature_headers([secret], "msg_2", NOW, body)
    assert verify(secret, headers, body, now=NOW + 300)
    assert not verify(secret, headers, body, now=NOW + 301)
    assert not verify(secret, headers, b'{"a":2}', now=NOW)
    assert not verify(secret, {**headers, "webhook-id": "msg_3"}, body, now=NOW)
    assert not verify(secret, {"webhook-id": "msg_2"}, body, now=NOW)
    assert sign(secret, "msg_2", NOW, body) == headers["webhook-signature"]


def test_signing_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="at least one signing secret"):
        signature_headers([], "msg_4", NOW, b"{}")
