"""Secrets stored encrypted: round trip, purpose separation, key change detected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.kit.secretbox import SecretBox, SecretBoxError

KEY = "k" * 40


@given(st.text(max_size=200))
def test_round_trip(plaintext: str) -> None:
    box = SecretBox(KEY, purpose="webhook-signing")
    stored = box.encrypt(plaintext)
    assert len(plaintext) < 8 or plaintext not in stored
    assert box.decrypt(stored) == plaintext


def test_another_purpose_or_key_cannot_read_it() -> None:
    stored = SecretBox(KEY, purpose="webhook-signing").encrypt("whsec_abc")
    with pytest.raises(SecretBoxError):
        SecretBox(KEY, purpose="printer").decrypt(stored)
    with pytest.raises(SecretBoxError):
        SecretBox("z" * 40, purpose="webhook-signing").decrypt(stored)
    with pytest.raises(SecretBoxError):
        SecretBox(KEY, purpose="webhook-signing").decrypt("not-a-token")


def test_a_purpose_is_required() -> None:
    with pytest.raises(ValueError, match="purpose"):
        SecretBox(KEY, purpose="")
