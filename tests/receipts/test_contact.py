"""Contact normalisation, keyed hashes and hints (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servio.receipts import contact
from servio.receipts.contact import ContactInvalid, contact_key, normalise_contact

SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.mark.parametrize(
    "raw",
    [
        "9876543210",
        "09876543210",
        "+91 98765 43210",
        "+91-98765-43210",
        "919876543210",
        "0091 98765 43210",
        " (+91) 98765.43210 ",
    ],
)
def test_spellings_of_one_indian_mobile_agree(raw: str) -> None:
    assert normalise_contact(raw) == ("phone", "919876543210")
    assert contact_key(SECRET, raw) == contact_key(SECRET, "9876543210")


def test_foreign_numbers_keep_their_country_code() -> None:
    assert normalise_contact("+44 7700 900123") == ("phone", "447700900123")
    assert normalise_contact("+1 (415) 555-0100") == ("phone", "14155550100")


def test_emails_are_trimmed_and_lower_cased() -> None:
    assert normalise_contact("  Ravi.K@Example.COM ") == ("email", "ravi.k@example.com")
    assert (
        contact_key(SECRET, "Ravi.K@Example.COM")[0] == contact_key(SECRET, "ravi.k@example.com")[0]
    )


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "12345",
        "98765 4321x",
        "+1234567890123456",
        "ravi@",
        "@example.com",
        "a@b",
        "a b@c.de",
        "٩٨٧٦٥٤٣٢١٠",
    ],
)
def test_malformed_contacts_are_refused(raw: str) -> None:
    with pytest.raises(ContactInvalid) as refused:
        normalise_contact(raw)
    assert refused.value.status == 422
    assert refused.value.code == "CONTACT_INVALID"


def test_hints_show_only_the_tail_of_a_phone_and_the_domain_of_an_email() -> None:
    assert contact_key(SECRET, "+91 98765 43210")[1] == "••••3210"
    assert contact_key(SECRET, "ravi@gmail.com")[1] == "r•••@gmail.com"


def test_the_hash_depends_on_the_secret_and_the_kind() -> None:
    hashed, _ = contact_key(SECRET, "9876543210")
    assert len(hashed) == 64
    assert int(hashed, 16) >= 0
    assert contact_key("another-secret-that-is-long-enough-000000", "9876543210")[0] != hashed
    # A plain SHA-256 of the number (guessable by anyone) is not what is stored.
    import hashlib

    assert hashed != hashlib.sha256(b"919876543210").hexdigest()
    assert contact.contact_hash(SECRET, "phone", "x") != contact.contact_hash(SECRET, "email", "x")


def test_codes_hash_per_row() -> None:
    first = contact.code_hash(SECRET, "row-1", "123456")
    assert first != contact.code_hash(SECRET, "row-2", "123456")
    assert contact.code_matches(SECRET, "row-1", " 123456 ", first)
    assert not contact.code_matches(SECRET, "row-1", "123457", first)


@given(
    st.from_regex(r"[6-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "0", "+91", "+91 ", "91"])
)
def test_any_indian_mobile_with_any_prefix_is_one_key(number: str, prefix: str) -> None:
    spaced = f"{number[:5]} {number[5:]}"
    assert contact_key(SECRET, prefix + number) == contact_key(SECRET, spaced)
    hashed, hint = contact_key(SECRET, prefix + number)
    assert number not in hint
    assert hint.endswith(number[-4:])
    assert number not in hashed


@given(st.emails())
def test_any_email_normalises_idempotently_and_the_hint_hides_the_local_part(email: str) -> None:
    try:
        kind, normalised = normalise_contact(email)
    except ContactInvalid:
        return  # exotic but valid addresses (no dot in the domain) are out of scope
    assert kind == "email"
    assert normalise_contact(normalised) == (kind, normalised)
    assert normalise_contact(normalised.upper()) == (kind, normalised)
    local, _, domain = normalised.rpartition("@")
    assert contact.contact_hint(kind, normalised) == f"{local[0]}•••@{domain}"
