"""Browser test harness: a real uvicorn server of the app on a free port, over a migrated
temporary SQLite database seeded with a venue and its owner, driven by Playwright through
Debian's `/usr/bin/chromium` (Playwright cannot download its own browsers here).

- No Chromium → the tests are SKIPPED with a loud reason, unless `SERVIO_REQUIRE_BROWSER=1`
  (CI sets it), which turns that into a failure. `SERVIO_CHROMIUM` overrides the path.
- Tests carry `pytest.mark.browser` and `pytest.mark.xdist_group("browser")`, so under
  `pytest -n 2 --dist loadgroup` they share one worker and therefore one server.
- Each test gets a fresh browser profile (user data dir); screenshots go to
  `test-artifacts/` at the repository root (gitignored).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import update

from servio.config import Settings
from servio.kit.db import Database, make_test_engine
from servio.kit.migrate import upgrade
from servio.main import create_app
from servio.models import Tenant
from tests.conftest import TEST_SECRET
from tests.fixtures.auth import DEFAULT_PASSWORD, make_staff
from tests.fixtures.factories import make_tenant

CHROMIUM = Path(os.environ.get("SERVIO_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("SERVIO_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SERVER_START_TIMEOUT_S = 20.0

# Collects `securitypolicyviolation` events in the page, before any page script runs.
CSP_RECORDER = """
window.__servioCspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__servioCspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    owner_name: str
    owner_email: str
    owner_password: str
    tenant_name: str
    outlet_name: str
    database_url: str = ""  # the server's SQLite file, for seeding what no API creates


@dataclass
class BrowserPage:
    """A Playwright page plus everything it complained about."""

    page: Any  # playwright.sync_api.Page (imported lazily: Playwright is a dev dependency)
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def listen(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        self.page.on("response", self._on_response)
        self.page.on("requestfailed", self._on_request_failed)

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self.console_errors.append(f"console.error: {message.text} ({where})")

    def _on_response(self, response: Any) -> None:
        # Documents may answer 4xx on purpose (a re-rendered form); sub-resources may not.
        if response.status >= 400 and response.request.resource_type != "document":
            self.failed_requests.append(f"HTTP {response.status} {response.url}")

    def _on_request_failed(self, request: Any) -> None:
        # ERR_ABORTED is the browser cancelling loads because the test navigated on; real
        # failures (refused, reset, blocked) are recorded.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.failed_requests.append(f"request failed: {request.url} {request.failure}")

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def csp_violations(self) -> list[str]:
        found: list[str] = self.page.evaluate("window.__servioCspViolations || []")
        return found

    def assert_clean(self) -> None:
        """No console errors, failed requests or CSP violations on the current page."""
        problems = self.console_errors + self.failed_requests + self.csp_violations()
        assert not problems, "the page logged problems:\n" + "\n".join(problems)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _require_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    reason = (
        f"!!! BROWSER TESTS NOT RUN: {CHROMIUM} is missing. Install Debian's chromium "
        "(`apt-get install chromium`, or `make browsers`) to run them."
    )
    if REQUIRE_BROWSER:
        pytest.fail(reason + " SERVIO_REQUIRE_BROWSER=1 makes this a failure.", pytrace=False)
    pytest.skip(reason)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def seed_venue(
    database_url: str,
    *,
    outlet_name: str = "Harbour Café Marina",
    owner_email: str = "asha@harbour.example",
) -> tuple[str, str, str, str]:
    """A tenant with one outlet and its owner: (owner name, owner e-mail, tenant, outlet)."""
    db = Database(make_test_engine(database_url))
    try:
        tenant, outlet = await make_tenant(db, name="Harbour Café", outlet_name=outlet_name)
        # Every browser test adds tables of its own to this one venue: a raised table limit
        # keeps them from running into FEATURE_LIMIT as the suite grows.
        async with db.unit_of_work(bypass_rls=True) as uow:
            await uow.session.execute(
                update(Tenant).where(Tenant.id == tenant.id).values(max_tables=500)
            )
        owner = await make_staff(
            db, tenant, outlet, roles=["owner"], name="Asha Menon", email=owner_email
        )
        assert owner.email is not None
        return owner.name, owner.email, tenant.name, outlet.name
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    return _require_chromium()


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: Path
) -> Iterator[LiveServer]:
    """The whole app (middleware, lifespan, pages) served by uvicorn in a thread."""
    db_path = tmp_path_factory.mktemp("browser-db") / "servio.db"
    database_url = f"sqlite+aiosqlite:///{db_path}"
    upgrade(database_url)
    owner_name, owner_email, tenant_name, outlet_name = asyncio.run(seed_venue(database_url))

    settings = Settings(
        app_env="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        embedded_worker=False,
        session_cookie_secure=False,
        log_format="text",
        log_level="WARNING",
        # Every browser test signs in from 127.0.0.1 against this one server; the login
        # limit (tested on its own in tests/kit) would otherwise refuse the eleventh
        # sign-in within a minute when tests run quickly one after another.
        rate_login_per_ip_min=10_000,
        # GUEST-11: the deployment switch only; the outlet's FLAG_WA_ENABLED (off by
        # default) still decides, and no worker runs here to send anything.
        whatsapp_guest_updates_enabled=True,
        _env_file=None,  # type: ignore[call-arg]
    )
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            log_level="warning",
            access_log=False,
            lifespan="on",
            ws="websockets-sansio",
        )
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="servio-live-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the live server did not start", pytrace=False)
        time.sleep(0.05)  # waiting for a real server socket, not for app time
    try:
        yield LiveServer(
            base_url=f"http://127.0.0.1:{port}",
            owner_name=owner_name,
            owner_email=owner_email,
            owner_password=DEFAULT_PASSWORD,
            tenant_name=tenant_name,
            outlet_name=outlet_name,
            database_url=database_url,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def playwright_driver(chromium_path: Path, live_server: LiveServer) -> Iterator[Any]:
    """Per test, not per session: while the sync API is active its event loop counts as
    running in this thread, which would break `asyncio.run()` in any later test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser_page(
    playwright_driver: Any, chromium_path: Path, live_server: LiveServer, tmp_path: Path
) -> Iterator[BrowserPage]:
    """A fresh Chromium profile per test, recording console errors, failed requests and
    CSP violations."""
    profile = tmp_path / "chromium-profile"
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile),
        executable_path=str(chromium_path),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1280, "height": 860},
        locale="en-GB",
    )
    context.add_init_script(CSP_RECORDER)
    page = context.pages[0] if context.pages else context.new_page()
    recorder = BrowserPage(page=page, base_url=live_server.base_url)
    recorder.listen()
    try:
        yield recorder
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phones(playwright_driver: Any, chromium_path: Path, live_server: LiveServer) -> Iterator[Any]:
    """`new_phone()` opens a fresh phone (a mobile browser context with its own storage);
    `new_phone(service_workers="block")` one without service workers."""
    browser = playwright_driver.chromium.launch(
        executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
    )
    contexts: list[Any] = []

    def new_phone(*, service_workers: str = "allow") -> BrowserPage:
        context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            locale="en-IN",
            service_workers=service_workers,
        )
        context.add_init_script(CSP_RECORDER)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        recorder = BrowserPage(page=page, base_url=live_server.base_url)
        recorder.listen()
        return recorder

    try:
        yield new_phone
    finally:
        for context in contexts:
            context.close()
        browser.close()


def sign_in_staff(browser_page: BrowserPage, live_server: LiveServer, path: str = "/staff") -> None:
    """Open a staff page and sign in as the venue's owner on the login form it sends us to."""
    page = browser_page.page
    browser_page.goto(path)
    page.wait_for_url(re.compile(rf"/login\?next={re.escape(path)}$"))
    page.get_by_label("Email").fill(live_server.owner_email)
    page.get_by_label("Password").fill(live_server.owner_password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(rf"{re.escape(path)}$"))
