"""The sign-in form's anti-CSRF token, the `next` check and fingerprinted asset URLs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from servio.config import Settings
from servio.kit.clock import FrozenClock
from servio.web.assets import AssetVersions
from servio.web.login_form import (
    form_token_valid,
    issue_form_token,
    new_presession_id,
    safe_next_path,
)
from tests.conftest import TEST_SECRET

SETTINGS = Settings(secret_key=TEST_SECRET, _env_file=None)  # type: ignore[call-arg]


def test_form_token_is_bound_to_its_pre_session_and_expires(clock: FrozenClock) -> None:
    presession = new_presession_id()
    token = issue_form_token(SETTINGS, presession, clock.now())
    assert form_token_valid(SETTINGS, presession, token, clock.now())
    assert not form_token_valid(SETTINGS, new_presession_id(), token, clock.now())
    assert not form_token_valid(SETTINGS, None, token, clock.now())
    tampered = token[:-1] + ("1" if token.endswith("0") else "0")  # always a different MAC
    assert not form_token_valid(SETTINGS, presession, tampered, clock.now())
    assert not form_token_valid(SETTINGS, presession, "garbage", clock.now())
    other_key = Settings(secret_key="another-secret-" * 4, _env_file=None)  # type: ignore[call-arg]
    assert not form_token_valid(other_key, presession, token, clock.now())

    clock.advance(timedelta(hours=1, minutes=59))
    assert form_token_valid(SETTINGS, presession, token, clock.now())
    clock.advance(timedelta(minutes=2))
    assert not form_token_valid(SETTINGS, presession, token, clock.now())


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/kds", "/kds"),
        ("/console?tab=staff#top", "/console?tab=staff#top"),
        ("", "/console"),
        (None, "/console"),
        ("//evil.com", "/console"),
        ("///evil.com", "/console"),
        ("/\\evil.com", "/console"),
        ("https://evil.com", "/console"),
        ("http:/evil.com", "/console"),
        ("javascript:alert(1)", "/console"),
        ("evil.com/x", "/console"),
        ("/ok\r\nSet-Cookie: x=1", "/console"),
        ("/login?next=/x", "/console"),
        ("/logout", "/console"),
    ],
)
def test_safe_next_path_allows_only_local_paths(candidate: str | None, expected: str) -> None:
    assert safe_next_path(candidate) == expected


def test_static_url_changes_when_the_file_changes(tmp_path: Path) -> None:
    (tmp_path / "css").mkdir()
    css = tmp_path / "css" / "app.css"
    css.write_text("body { color: black }")
    before = AssetVersions(tmp_path).url("css/app.css")
    assert before.startswith("/static/css/app.css?v=")
    assert AssetVersions(tmp_path).url("/css/app.css") == before  # stable across restarts
    css.write_text("body { color: navy }")
    assert AssetVersions(tmp_path).url("css/app.css") != before
    with pytest.raises(LookupError):
        AssetVersions(tmp_path).url("css/missing.css")
