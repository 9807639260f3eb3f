"""S9: the guest PWA in headless Chromium on an emulated Slow-4G link, from the table's QR
link (what `servio demo` prints) to the menu on screen.

    .venv/bin/python -m bench.pwa [--runs 3] [--cpu-slowdown 1]

Chromium (Playwright for Python, the system `/usr/bin/chromium`) opens the QR URL of the
first demo table on a phone-sized viewport with an empty cache, over Chrome DevTools'
network emulation: 150 ms latency, 1.6 Mbit/s down (200,000 bytes/s), 750 kbit/s up (the
DevTools "Slow 4G" profile). The page records, in its own clock:
- `menu_visible_ms`: the first frame where `#menu` holds an item card and is no longer busy;
- `lcp_ms`: the last `largest-contentful-paint` entry reported up to that point;
- every resource (navigation included) that finished before the menu was visible, with its
  transferred bytes (`transferSize`: body as sent + headers) and its body as sent
  (`encodedBodySize`); DevTools' `Network.loadingFinished` `encodedDataLength` per URL is kept
  beside them as a cross-check.
The critical path of the goal is "gzipped": each critical body is also fetched once more
(plain HTTP, outside the browser) and gzipped at level 6 (`gzip_bytes`), so the table shows
what the path would weigh if the server compressed what it now sends as is.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.scenarios import Mode, Outcome, Target
from bench.server import Cores, prepare_database, servio_env, servio_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# DevTools' "Slow 4G" preset (Chrome 120+): 150 ms, 1.6 Mbit/s down, 750 kbit/s up.
SLOW_4G = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 750_000 / 8,
}
CRITICAL_PATH_BUDGET = 30 * 1024  # gzipped bytes
LCP_BUDGET_MS = 2000.0
MENU_SELECTOR = "#menu article.item"
SETTLE_MS = 500

# Runs before any page script: LCP entries and the first frame with the menu drawn.
PROBE = """
(() => {
  const probe = (window.__servioProbe = { lcp: [], menuVisible: null });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      probe.lcp.push({ t: e.startTime, size: e.size, el: e.element ? e.element.tagName : null,
                       url: e.url || null });
    }
  }).observe({ type: "largest-contentful-paint", buffered: true });
  const check = () => {
    const menu = document.querySelector("#menu");
    if (menu && !menu.hasAttribute("aria-busy") && menu.querySelector("article.item")) {
      probe.menuVisible = performance.now();
      return;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""

COLLECT = """
() => {
  const probe = window.__servioProbe;
  const upTo = probe.menuVisible;
  const lcp = probe.lcp;
  const entries = [...performance.getEntriesByType("navigation"),
                   ...performance.getEntriesByType("resource")];
  return {
    menu_visible_ms: upTo,
    lcp: lcp.length ? lcp[lcp.length - 1] : null,
    resources: entries.map((e) => ({
      url: e.name, type: e.initiatorType, start_ms: e.startTime, end_ms: e.responseEnd,
      transfer: e.transferSize, body: e.encodedBodySize, decoded: e.decodedBodySize,
    })),
  };
}
"""


def chromium_available() -> bool:
    if not Path(CHROMIUM).exists():
        return False
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def guest_url(base_url: str, qr_url: str) -> str:
    """The demo's QR link (on the configured BASE_URL) moved onto the running server."""
    parts = urlsplit(qr_url)
    return base_url + parts.path + (f"?{parts.query}" if parts.query else "")


def load_once(url: str, cpu_slowdown: float = 1.0, timeout_s: float = 60.0) -> dict[str, Any]:
    """One cold load of `url` on Slow-4G; the probe's figures plus DevTools' byte counts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 412, "height": 915},
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
            )
            page = context.new_page()
            page.add_init_script(PROBE)
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Network.emulateNetworkConditions", SLOW_4G)
            if cpu_slowdown > 1:
                cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu_slowdown})
            urls: dict[str, str] = {}
            encodings: dict[str, list[str]] = {}
            wire: dict[str, list[int | None]] = {}

            def on_response(event: dict[str, Any]) -> None:
                response = event["response"]
                urls[event["requestId"]] = response["url"]
                headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
                encodings.setdefault(response["url"], []).append(
                    headers.get("content-encoding", "")
                )

            def on_finished(event: dict[str, Any]) -> None:
                url_of = urls.get(event["requestId"])
                if url_of is not None:
                    wire.setdefault(url_of, []).append(int(event["encodedDataLength"]))

            cdp.on("Network.responseReceived", on_response)
            cdp.on("Network.loadingFinished", on_finished)
            page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
            page.wait_for_function(
                "() => window.__servioProbe && window.__servioProbe.menuVisible !== null",
                timeout=timeout_s * 1000,
            )
            # The menu's own paint (its LCP candidate) lands a frame or two after the
            # frame that found it in the DOM: read the entries once the page clock has
            # moved SETTLE_MS past that frame.
            page.wait_for_function(
                f"() => performance.now() > window.__servioProbe.menuVisible + {SETTLE_MS}",
                timeout=timeout_s * 1000,
            )
            figures: dict[str, Any] = page.evaluate(COLLECT)
            items = page.locator(MENU_SELECTOR).count()
        finally:
            browser.close()
    visible = float(figures["menu_visible_ms"])
    resources = sorted(figures["resources"], key=lambda r: r["start_ms"])
    for r in resources:  # DevTools events per URL arrive in request order
        r["content_encoding"] = (encodings.get(r["url"]) or [""]).pop(0)
        r["cdp_bytes"] = (wire.get(r["url"]) or [None]).pop(0)
    critical = sorted((r for r in resources if r["end_ms"] <= visible), key=lambda r: r["end_ms"])
    return {
        "menu_visible_ms": round(visible, 1),
        "lcp_ms": round(float(figures["lcp"]["t"]), 1) if figures["lcp"] else None,
        "lcp_element": figures["lcp"]["el"] if figures["lcp"] else None,
        "menu_items": items,
        "critical": critical,
        "later": [r["url"] for r in resources if r["end_ms"] > visible],
    }


def gzip_sizes(client: httpx.Client, critical: list[dict[str, Any]]) -> dict[int, int]:
    """Per critical resource (by index), its body gzipped at level 6: a body the server
    already compressed counts as sent; any other is fetched again (as the page asked for it:
    HTML for the navigation, JSON for `fetch()`) and gzipped here."""
    sizes = {}
    for i, r in enumerate(critical):
        if r["content_encoding"] in ("gzip", "br", "zstd", "deflate"):
            sizes[i] = int(r["body"])
            continue
        accept = "application/json" if r["type"] == "fetch" else "*/*"
        if r["type"] == "navigation":
            accept = "text/html"
        got = client.get(r["url"], headers={"Accept": accept, "Accept-Encoding": "identity"})
        sizes[i] = len(gzip.compress(got.content, compresslevel=6))
    return sizes


def warm_up(url: str) -> None:
    """What an earlier guest's scan leaves warm on a running server (templates compiled, menu
    rendered and cached), so the timed loads are not the server's very first requests."""
    token = urlsplit(url).path.rstrip("/").rpartition("/")[2]
    base = url.partition("/t/")[0]
    with httpx.Client(timeout=30) as client:
        client.get(url, headers={"Accept": "text/html"}).raise_for_status()
        client.get(f"{base}/g/{token}/menu", headers={"Accept": "application/json"})


def short(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path
    if path.startswith("/t/") or path.startswith("/g/"):
        head, _, rest = path[3:].partition("/")
        path = path[:3] + "{qr_token}" + (f"/{rest}" if rest else "")
    return path


def measure(base_url: str, qr_url: str, runs: int, cpu_slowdown: float = 1.0) -> dict[str, Any]:
    """`runs` cold loads; medians, and the critical path (with sizes) of the median run."""
    url = guest_url(base_url, qr_url)
    warm_up(url)
    loads = [load_once(url, cpu_slowdown) for _ in range(runs)]
    loads.sort(key=lambda load: load["menu_visible_ms"])
    middle = loads[len(loads) // 2]
    with httpx.Client(timeout=30) as client:
        gz = gzip_sizes(client, middle["critical"])
    path = [
        {
            "path": short(r["url"]),
            "type": r["type"],
            "transfer_bytes": r["transfer"],
            "body_bytes": r["body"],
            "decoded_bytes": r["decoded"],
            "content_encoding": r["content_encoding"] or "identity",
            "gzip_bytes": gz[i],
            "devtools_bytes": r["cdp_bytes"],
            "start_ms": round(r["start_ms"], 1),
            "end_ms": round(r["end_ms"], 1),
        }
        for i, r in enumerate(middle["critical"])
    ]
    lcps = [load["lcp_ms"] for load in loads if load["lcp_ms"] is not None]
    return {
        "runs": runs,
        "network": "Slow-4G: 150 ms latency, 1.6 Mbit/s down, 750 kbit/s up (DevTools)",
        "cpu_slowdown": cpu_slowdown,
        "lcp_ms_median": round(statistics.median(lcps), 1) if lcps else None,
        "lcp_ms_runs": lcps,
        "lcp_element": middle["lcp_element"],
        "menu_visible_ms_median": round(statistics.median(x["menu_visible_ms"] for x in loads), 1),
        "menu_items": middle["menu_items"],
        "critical_requests": len(path),
        "critical_transfer_bytes": sum(r["transfer_bytes"] for r in path),
        "critical_gzip_bytes": sum(r["gzip_bytes"] for r in path),
        "critical_path": path,
        "after_menu": sorted({short(u) for u in middle["later"]}),
    }


def outcome(figures: dict[str, Any]) -> Outcome:
    out = Outcome(
        "S9",
        "guest PWA, Slow-4G, headless Chromium: QR link → menu visible",
        "critical path ≤ 30 KB gzipped; LCP ≤ 2.0 s",
        "—",
    )
    out.context = figures
    gz, sent = figures["critical_gzip_bytes"], figures["critical_transfer_bytes"]
    lcp = figures["lcp_ms_median"]
    visible = figures["menu_visible_ms_median"]
    out.checks["menu_items_drawn"] = figures["menu_items"]
    out.checks["errors"] = 0 if figures["menu_items"] > 0 else 1
    out.passed = (
        lcp is not None
        and max(lcp, visible) <= LCP_BUDGET_MS
        and gz <= CRITICAL_PATH_BUDGET
        and figures["menu_items"] > 0
    )
    out.notes.append(
        f"LCP {lcp} ms (median of {figures['runs']}), menu visible "
        f"{figures['menu_visible_ms_median']} ms; critical path {figures['critical_requests']} "
        f"requests, {gz / 1024:.1f} KB gzipped, {sent / 1024:.1f} KB as sent"
    )
    plain = [r for r in figures["critical_path"] if r["content_encoding"] == "identity"]
    if plain and sent > gz * 1.2:
        names = ", ".join(f"{r['path']} {r['body_bytes'] / 1024:.1f} KB" for r in plain)
        out.notes.append(f"sent uncompressed: {names}")
    return out


@contextmanager
def demo_server(work: Path) -> Iterator[tuple[str, str]]:
    """A fresh demo Servio (`servio serve --no-worker`); yields (base URL, first QR URL)."""
    env = servio_env(work)
    demo = prepare_database(work, env)
    with servio_server(work, env, Cores.detect()) as server:
        yield server.base_url, str(demo["tables"][0]["qr_url"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cpu-slowdown", type=float, default=1.0)
    args = parser.parse_args()
    if not chromium_available():
        raise SystemExit(f"needs {CHROMIUM} and the playwright package")
    work = Path(tempfile.mkdtemp(prefix="servio-pwa-"))
    try:
        with demo_server(work) as (base_url, qr_url):
            figures = measure(base_url, qr_url, args.runs, args.cpu_slowdown)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(outcome(figures).summary(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()


def scenario(target: Target, mode: Mode, notes: list[str]) -> Outcome | None:
    """S9 for `python -m bench run`, on the harness's SQLite demo server (None, with a note
    saying why, when Chromium or Playwright is missing)."""
    if not chromium_available():
        notes.append(f"S9 skipped: needs {CHROMIUM} and the playwright package")
        return None
    qr_url = str(target.demo["tables"][0]["qr_url"])
    return outcome(measure(target.server.base_url, qr_url, runs=mode.rounds))
