/* Servio guest service worker (scope /t/). Served by servio.web.guest.endpoints with the
   asset versions baked in, so a changed asset changes this file and the browser updates it.
   - shell assets (/static/…?v=hash): cache-first, precached on install;
   - the menu JSON (GET /g/{token}/menu): stale-while-revalidate;
   - the app shell page (/t/{token}): network-first, the cached copy when offline;
   - everything else (the session API, POST /orders, …) goes to the network untouched. */
const VERSION = {{ version|tojson }};
const CACHE = "servio-guest-" + VERSION;
const PRECACHE = {{ precache|tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((k) => k.startsWith("servio-guest-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()));
});

function put(request, response) {
  if (response && response.ok && response.type === "basic") {
    const copy = response.clone();
    caches.open(CACHE).then((c) => c.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // never cache API writes
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/") && url.searchParams.has("v")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request).then((r) => put(request, r))));
  } else if (/^\/g\/[^/]+\/menu$/.test(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => {
      const fresh = fetch(request).then((r) => put(request, r));
      if (!hit) return fresh;
      event.waitUntil(fresh.catch(() => undefined));
      return hit;
    }));
  } else if (request.mode === "navigate" && /^\/t\/[^/]+$/.test(url.pathname)) {
    event.respondWith(fetch(request).then((r) => put(request, r))
      .catch(() => caches.match(request).then((hit) => hit || Response.error())));
  }
});
