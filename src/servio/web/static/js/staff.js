/* Staff grid (UI-02, seed 004 §5): every table live, Close in one tap, Restore in two, and the
   outlet's "Disable QR ordering" switch.

   State comes from the API (`/api/v1/tables/map`, `/api/v1/sessions?state=…`,
   `/api/v1/outlet/ordering`); changes arrive on `WS /ws/staff` (authenticated by the session
   cookie), or on the SSE stream when WebSockets do not get through. A message updates what it
   can at once and asks for a (debounced) re-read, so a lost or partial message costs nothing.
   Timers tick here every second from the server's timestamps: no polling. */
(function () {
  "use strict";

  var MAP_URL = "/api/v1/tables/map";
  var SESSIONS_URL = "/api/v1/sessions";
  var ORDERING_URL = "/api/v1/outlet/ordering";
  var WS_PATH = "/ws/staff";
  var SSE_URL = "/api/v1/events/stream";

  var RESTORE_ARM_MS = 4000;
  var REFRESH_DEBOUNCE_MS = 250;
  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
  var WS_FAILURES_BEFORE_SSE = 3;
  var CLOSED_SHOWN = 12;
  var ALERTS_SHOWN = 6;

  var POINT_STATE_LABEL = { open: "Open", locked: "Locked", cleaning: "Cleaning", disabled: "Disabled" };
  var STATUS_LABEL = {
    free: "Free",
    active: "Seated",
    stale: "Idle (stale)",
    amber: "Unpaid over 60 min",
    off: "",
  };
  var PAYMENT_LABEL = {
    unpaid: "Unpaid",
    bill_requested: "Bill requested",
    partially_paid: "Part paid",
    settled: "Paid",
  };

  var app, grid, closedList, summary;
  var currency = "INR";
  var timezone;
  var canManage = false;
  var canToggle = false;
  var canBill = false;
  var billing = {}; // session_id -> true while its "Bill" request is in flight
  var amberAfterMs = 3600 * 1000;

  var points = []; // floor map items, in the server's (natural) order
  var active = {}; // session_id -> session (active or stale)
  var closed = {}; // session_id -> session (closed)
  var closing = {}; // session_id -> true while our own Close is in flight
  var orderingEnabled = true;
  var clockOffsetMs = 0; // server clock - this device's clock
  var refreshTimer = null;
  var refreshMap = false;
  var loading = null;

  /* ------------------------------------------------------------------ helpers */

  var kit = window.ServioStaff; // staff-kit.js
  var el = kit.el;
  var problemText = kit.problemText;
  var parseTime = kit.parseTime;
  var pad = kit.pad;

  function api(method, url, body) {
    return kit.api(method, url, body, {
      onResponse: function (response) {
        noteServerDate(response.headers.get("Date"));
      },
    });
  }

  /* Screen readers hear what changed ("T4: guests seated"), not the whole grid again. */
  function announce(message) {
    kit.announce("grid-announcer", message);
  }

  function labelOf(data) {
    var point = pointById(data.service_point_id);
    var known = active[data.session_id] || closed[data.session_id] || {};
    return (point && point.label) || data.table_label || known.table_label || data.label || "A table";
  }

  function notice(message) {
    kit.notice("grid-notice", message);
  }

  function now() {
    return Date.now() + clockOffsetMs;
  }

  /* The server's clock rules (timers, amber): estimate our offset from its timestamps. */
  function noteServerTs(ts) {
    var t = parseTime(ts);
    if (t !== null) clockOffsetMs = t - Date.now();
  }

  function noteServerDate(header) {
    var t = parseTime(header);
    // A Date header has whole seconds only: use it unless a finer estimate agrees within 1 s.
    if (t !== null && Math.abs(t - (Date.now() + clockOffsetMs)) > 1500) clockOffsetMs = t - Date.now();
  }

  var moneyFormat = null;
  function money(minor) {
    if (minor === null || minor === undefined) return "";
    if (!moneyFormat) {
      moneyFormat = new Intl.NumberFormat(currency === "INR" ? "en-IN" : undefined, {
        style: "currency",
        currency: currency,
      });
    }
    var places = moneyFormat.resolvedOptions().maximumFractionDigits;
    return moneyFormat.format(minor / Math.pow(10, places));
  }

  var clockFormat = null;
  function clockTime(ms) {
    if (!clockFormat) {
      var options = { hour: "2-digit", minute: "2-digit" };
      try {
        clockFormat = new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: timezone }, options));
      } catch (e) {
        clockFormat = new Intl.DateTimeFormat(undefined, options);
      }
    }
    return clockFormat.format(new Date(ms));
  }

  /* 0:42:07 — a running clock since `since`. */
  function duration(ms) {
    var total = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    return h + ":" + pad(m) + ":" + pad(s);
  }

  /* "just now", "12 min", "1 h 05 min" — coarse, for idle time. */
  function coarse(ms) {
    var mins = Math.max(0, Math.floor(ms / 60000));
    if (mins < 1) return "under a minute";
    if (mins < 60) return mins + " min";
    return Math.floor(mins / 60) + " h " + pad(mins % 60) + " min";
  }

  function spoken(ms) {
    var total = Math.max(0, Math.floor(ms / 60000));
    var h = Math.floor(total / 60);
    var m = total % 60;
    return (h ? h + " hours " : "") + m + " minutes";
  }

  function tickets(session) {
    var list = session.ticket_nos || [];
    return list.map(function (t) {
      return "#" + t;
    }).join(" · ");
  }

  /* ------------------------------------------------------------------ state */

  function isLive(session) {
    return session && (session.state === "active" || session.state === "stale");
  }

  function sessionAt(pointId) {
    for (var id in active) {
      if (Object.prototype.hasOwnProperty.call(active, id) && active[id].service_point_id === pointId && !closing[id]) {
        return active[id];
      }
    }
    return null;
  }

  function pointById(id) {
    for (var i = 0; i < points.length; i++) if (points[i].id === id) return points[i];
    return null;
  }

  /* Amber per seed 004 §8: active, not settled, first order more than 60 min ago. The server
     says so at read time; the clock here flips it on time between reads. */
  function isAmber(session) {
    if (!isLive(session)) return false;
    if (session.amber) return true;
    var first = parseTime(session.first_order_at);
    return session.payment_status !== "settled" && first !== null && now() - first > amberAfterMs;
  }

  function tileStatus(point, session) {
    if (session) {
      if (isAmber(session)) return "amber";
      if (session.state === "stale") return "stale";
      return "active";
    }
    return point.state && point.state !== "open" ? "off" : "free";
  }

  function upsertActive(data) {
    var id = data.session_id;
    if (!id) return;
    // A brand-new session has nobody, no tickets and nothing to pay yet.
    var blank = { member_count: 0, order_count: 0, ticket_nos: [], subtotal: 0, fired: null };
    var known = active[id] || closed[id] || blank;
    var merged = Object.assign({}, known, data);
    if (data.opened_at === undefined && known.opened_at) merged.opened_at = known.opened_at;
    if (merged.state !== "stale") merged.state = "active";
    delete closed[id];
    active[id] = merged;
  }

  function moveToClosed(data) {
    var id = data.session_id;
    if (!id) return;
    var known = active[id] || closed[id] || {};
    var merged = Object.assign({}, known, data, { state: "closed" });
    if (!merged.closed_at) merged.closed_at = new Date(now()).toISOString();
    delete active[id];
    closed[id] = merged;
  }

  /* ------------------------------------------------------------------ loading */

  function sessionItems(result) {
    if (!result.ok || !result.data) return null;
    return Array.isArray(result.data.items) ? result.data.items : Array.isArray(result.data) ? result.data : null;
  }

  /* Sessions the floor map knows about, for when the sessions list cannot be read. */
  function sessionsFromMap() {
    var found = {};
    points.forEach(function (p) {
      var live = p.live || {};
      if (!live.session_id) return;
      found[live.session_id] = {
        session_id: live.session_id,
        service_point_id: p.id,
        table_label: p.label,
        state: live.state || live.session_state || "active",
        payment_status: live.payment_status || "unpaid",
        amber: !!live.amber,
        opened_at: live.opened_at || live.since || null,
        last_activity_at: live.last_activity_at || null,
      };
    });
    return found;
  }

  function loadSessions() {
    return Promise.all([api("GET", SESSIONS_URL + "?state=active"), api("GET", SESSIONS_URL + "?state=closed")]).then(
      function (results) {
        var live = sessionItems(results[0]);
        var gone = sessionItems(results[1]);
        if (live === null) {
          if (results[0].status !== 404) notice(problemText(results[0], "Open tables could not be loaded."));
          active = sessionsFromMap();
        } else {
          active = {};
          live.forEach(function (s) {
            if (isLive(s)) active[s.session_id] = s;
          });
        }
        if (gone !== null) {
          closed = {};
          gone.forEach(function (s) {
            if (s.state === "closed" && !active[s.session_id]) closed[s.session_id] = s;
          });
        }
        Object.keys(closing).forEach(function (id) {
          if (!active[id]) delete closing[id];
        });
      }
    );
  }

  function loadMap() {
    return api("GET", MAP_URL).then(function (result) {
      if (!result.ok) {
        notice(problemText(result, "The tables could not be loaded."));
        return;
      }
      points = result.data.items || [];
    });
  }

  function loadOrdering() {
    return api("GET", ORDERING_URL).then(function (result) {
      if (result.ok && result.data && typeof result.data.enabled === "boolean") setOrdering(result.data.enabled);
    });
  }

  /* Re-read everything (on load, on every (re)connect, when the tab comes back). */
  function reload() {
    if (loading) return loading;
    loading = Promise.all([loadMap(), loadOrdering()])
      .then(loadSessions)
      .then(function () {
        grid.setAttribute("aria-busy", "false");
        render();
      })
      .finally(function () {
        loading = null;
      });
    return loading;
  }

  /* A debounced re-read of the sessions (and the map when asked): bursts of messages — one
     order fires several — cost one request. */
  function scheduleRefresh(withMap) {
    refreshMap = refreshMap || !!withMap;
    if (refreshTimer) return;
    refreshTimer = window.setTimeout(function () {
      var both = refreshMap;
      refreshTimer = null;
      refreshMap = false;
      (both ? loadMap() : Promise.resolve()).then(loadSessions).then(render);
    }, REFRESH_DEBOUNCE_MS);
  }

  /* ------------------------------------------------------------------ rendering */

  function fact(label, value, extraClass) {
    var row = el("div", "fact" + (extraClass ? " " + extraClass : ""));
    row.appendChild(el("dt", "", label));
    var dd = el("dd", "", value);
    row.appendChild(dd);
    return { row: row, value: dd };
  }

  function tile(point) {
    var session = sessionAt(point.id);
    var status = tileStatus(point, session);
    var li = el("li", "tile tile-" + status);
    li.dataset.pointId = point.id;
    li.dataset.status = status;
    li.dataset.pointState = point.state;
    if (session) li.dataset.sessionId = session.session_id;
    var headingId = "tile-" + point.id + "-label";
    li.setAttribute("aria-labelledby", headingId);

    var head = el("div", "tile-head");
    var title = el("h3", "tile-label", point.label);
    title.id = headingId;
    head.appendChild(title);
    var statusText = status === "off" ? POINT_STATE_LABEL[point.state] || point.state : STATUS_LABEL[status];
    head.appendChild(el("span", "tile-status", statusText));
    li.appendChild(head);

    var meta = [];
    if (point.kind && point.kind !== "table") meta.push(point.kind.charAt(0).toUpperCase() + point.kind.slice(1));
    if (point.seats) meta.push(point.seats + " seats");
    if (point.area) meta.push(point.area);
    if (session && point.state && point.state !== "open") meta.push(POINT_STATE_LABEL[point.state] || point.state);
    if (meta.length) li.appendChild(el("p", "tile-meta", meta.join(" · ")));

    if (!session) {
      li.appendChild(el("p", "tile-empty", status === "free" ? "No guests" : "Not seating guests"));
      return li;
    }

    var facts = el("dl", "tile-facts");
    var opened = fact("Open for", "", "fact-timer");
    opened.value.dataset.since = session.opened_at || "";
    opened.value.dataset.timer = "opened";
    opened.value.className = "timer";
    facts.appendChild(opened.row);
    var idle = fact("Idle", "");
    idle.value.dataset.since = session.last_activity_at || "";
    idle.value.dataset.timer = "idle";
    facts.appendChild(idle.row);
    if (session.member_count !== undefined) facts.appendChild(fact("Guests", String(session.member_count)).row);
    facts.appendChild(fact("Tickets", tickets(session) || "none yet", "fact-tickets").row);
    if (session.subtotal !== undefined && session.subtotal !== null) {
      facts.appendChild(fact("Subtotal", money(session.subtotal), "fact-money").row);
    }
    if (session.payment_status) facts.appendChild(fact("Bill", PAYMENT_LABEL[session.payment_status] || session.payment_status).row);
    li.appendChild(facts);

    if (session.fired === "retrying") {
      li.appendChild(el("p", "fire-badge fire-retrying", "Checking with kitchen…"));
    } else if (session.fired === "pending") {
      li.appendChild(el("p", "fire-badge fire-pending", "Sending to kitchen…"));
    }

    if (canBill && session.order_count > 0 && session.payment_status !== "settled") {
      var bill = el("button", "btn btn-primary btn-bill", billing[session.session_id] ? "Billing…" : "Bill");
      bill.type = "button";
      bill.dataset.bill = session.session_id;
      bill.disabled = !!billing[session.session_id];
      bill.setAttribute("aria-label", "Bill " + point.label);
      li.appendChild(bill);
    }
    if (canManage) {
      var close = el("button", "btn btn-close", "Close");
      close.type = "button";
      close.dataset.close = session.session_id;
      close.setAttribute("aria-label", "Close " + point.label);
      li.appendChild(close);
    }
    return li;
  }

  function closedItem(session) {
    var li = el("li", "closed-item");
    li.dataset.sessionId = session.session_id;
    var label = session.table_label || (pointById(session.service_point_id) || {}).label || "Table";
    var text = el("div", "closed-text");
    text.appendChild(el("strong", "closed-label", label));
    var bits = [];
    var at = parseTime(session.closed_at);
    if (at !== null) bits.push("closed " + clockTime(at));
    if (session.auto_closed) bits.push("auto-closed");
    if (session.subtotal) bits.push(money(session.subtotal));
    var t = tickets(session);
    if (t) bits.push(t);
    text.appendChild(el("span", "closed-meta", bits.join(" · ")));
    li.appendChild(text);
    if (canManage) {
      var restore = el("button", "btn btn-secondary btn-restore", "Restore");
      restore.type = "button";
      restore.dataset.restore = session.session_id;
      restore.dataset.label = label;
      restore.setAttribute("aria-label", "Restore " + label);
      li.appendChild(restore);
    }
    return li;
  }

  function render() {
    var focusedKey = focusKey();
    grid.textContent = "";
    if (!points.length) {
      grid.appendChild(el("li", "muted", "No tables yet. Add them in the console under Tables & QR."));
    }
    points.forEach(function (p) {
      grid.appendChild(tile(p));
    });

    var armed = armedRestores();
    closedList.textContent = "";
    var recent = Object.keys(closed).map(function (id) {
      return closed[id];
    }).sort(function (a, b) {
      return (parseTime(b.closed_at) || 0) - (parseTime(a.closed_at) || 0);
    }).slice(0, CLOSED_SHOWN);
    if (!recent.length) closedList.appendChild(el("li", "muted", "Nothing closed yet."));
    recent.forEach(function (s) {
      closedList.appendChild(closedItem(s));
    });
    armed.forEach(function (id) {
      var button = closedList.querySelector('[data-restore="' + id + '"]');
      if (button) arm(button);
    });

    var counts = { free: 0, active: 0, amber: 0, stale: 0, off: 0 };
    points.forEach(function (p) {
      counts[tileStatus(p, sessionAt(p.id))] += 1;
    });
    var parts = [points.length + " tables", counts.active + counts.amber + counts.stale + " seated", counts.free + " free"];
    if (counts.amber) parts.push(counts.amber + " unpaid over 60 min");
    if (counts.stale) parts.push(counts.stale + " idle");
    summary.textContent = parts.join(" · ");
    tick();
    restoreFocus(focusedKey);
  }

  /* After Close the button is gone: keep the keyboard on the table it closed. */
  function focusTile(pointId) {
    if (!pointId) return;
    var heading = document.getElementById("tile-" + pointId + "-label");
    if (!heading) return;
    heading.tabIndex = -1;
    heading.focus();
  }

  /* Keep keyboard focus on "the same" button across re-renders. */
  function focusKey() {
    var a = document.activeElement;
    if (!a || !app.contains(a)) return null;
    if (a.dataset.close) return '[data-close="' + a.dataset.close + '"]';
    if (a.dataset.restore) return '[data-restore="' + a.dataset.restore + '"]';
    return null;
  }

  function restoreFocus(key) {
    if (!key) return;
    var target = app.querySelector(key);
    if (target) target.focus();
  }

  /* Every second: the timers, and amber flipping on time. */
  function tick() {
    var t = now();
    var timers = grid.querySelectorAll("[data-timer]");
    for (var i = 0; i < timers.length; i++) {
      var since = parseTime(timers[i].dataset.since);
      if (since === null) {
        timers[i].textContent = "—";
        continue;
      }
      if (timers[i].dataset.timer === "opened") {
        timers[i].textContent = duration(t - since);
        timers[i].setAttribute("aria-label", spoken(t - since));
      } else {
        timers[i].textContent = coarse(t - since);
      }
    }
    var tiles = grid.querySelectorAll(".tile[data-session-id]");
    for (var j = 0; j < tiles.length; j++) {
      var session = active[tiles[j].dataset.sessionId];
      if (session && isAmber(session) && tiles[j].dataset.status !== "amber") {
        render(); // crossed the 60-minute line just now
        return;
      }
    }
  }

  /* ------------------------------------------------------------------ actions */

  function closeSession(sessionId, button) {
    var session = active[sessionId];
    var label = button.getAttribute("aria-label").replace(/^Close /, "");
    // Optimistic: the tile is free at once; a failure puts it back.
    closing[sessionId] = true;
    own[sessionId] = true;
    moveToClosed(Object.assign({}, session || { session_id: sessionId }, { closed_at: new Date(now()).toISOString() }));
    render();
    focusTile(session ? session.service_point_id : null);
    api("PATCH", "/session/" + encodeURIComponent(sessionId) + "/close").then(function (result) {
      delete closing[sessionId];
      if (result.ok || (result.data && result.data.code === "SESSION_CLOSED")) {
        if (result.ok && result.data && result.data.session_id) moveToClosed(result.data);
        window.Servio.toast(label + " closed");
        scheduleRefresh(false);
        return;
      }
      if (session) upsertActive(session);
      render();
      notice(problemText(result, label + " could not be closed.") + " The table is still open.");
      scheduleRefresh(false);
    });
  }

  function armedRestores() {
    var ids = [];
    var buttons = closedList.querySelectorAll('[data-armed="true"]');
    for (var i = 0; i < buttons.length; i++) ids.push(buttons[i].dataset.restore);
    return ids;
  }

  var armTimers = {};
  var own = {}; // session_id -> true: the next message about it is our own doing

  function ownAction(sessionId) {
    var mine = !!own[sessionId];
    delete own[sessionId];
    return mine;
  }

  function disarm(button) {
    button.dataset.armed = "false";
    button.textContent = "Restore";
    button.classList.remove("is-armed");
    button.setAttribute("aria-label", "Restore " + button.dataset.label);
  }

  function arm(button) {
    var id = button.dataset.restore;
    button.dataset.armed = "true";
    button.textContent = "Tap again to restore";
    button.classList.add("is-armed");
    button.setAttribute("aria-label", "Tap again to restore " + button.dataset.label);
    if (!armTimers[id]) {
      armTimers[id] = window.setTimeout(function () {
        delete armTimers[id];
        var current = closedList.querySelector('[data-restore="' + id + '"]');
        if (current) disarm(current);
      }, RESTORE_ARM_MS);
    }
  }

  function restoreSession(button) {
    var id = button.dataset.restore;
    if (button.dataset.armed !== "true") {
      arm(button); // first tap: arm for a few seconds
      return;
    }
    window.clearTimeout(armTimers[id]);
    delete armTimers[id];
    button.disabled = true;
    button.textContent = "Restoring…";
    own[id] = true;
    var label = button.dataset.label;
    api("PATCH", "/session/" + encodeURIComponent(id) + "/restore").then(function (result) {
      if (result.ok) {
        upsertActive(Object.assign({}, closed[id] || {}, result.data || {}, { session_id: id }));
        render();
        window.Servio.toast(label + " restored");
        scheduleRefresh(false);
        return;
      }
      button.disabled = false;
      disarm(button);
      notice(problemText(result, label + " could not be restored."));
      scheduleRefresh(false);
    });
  }

  function setOrdering(enabled) {
    orderingEnabled = enabled;
    app.dataset.orderingEnabled = enabled ? "true" : "false";
    document.getElementById("ordering-banner").hidden = enabled;
    var disable = document.getElementById("ordering-disable");
    var enable = document.getElementById("ordering-enable");
    if (disable) disable.hidden = !enabled;
    if (enable) enable.hidden = enabled;
    var badge = document.getElementById("ordering-state");
    if (badge) {
      badge.textContent = "QR ordering " + (enabled ? "on" : "off");
      badge.className = "badge ordering-state " + (enabled ? "badge-success" : "badge-danger");
    }
  }

  function showConfirm(show) {
    var panel = document.getElementById("ordering-confirm");
    var disable = document.getElementById("ordering-disable");
    panel.hidden = !show;
    disable.setAttribute("aria-expanded", show ? "true" : "false");
    if (show) document.getElementById("ordering-confirm-yes").focus();
  }

  function putOrdering(enabled, button) {
    button.disabled = true;
    api("PUT", ORDERING_URL, { enabled: enabled }).then(function (result) {
      button.disabled = false;
      if (!result.ok) {
        notice(problemText(result, "QR ordering could not be switched."));
        return;
      }
      var isOn = result.data && typeof result.data.enabled === "boolean" ? result.data.enabled : enabled;
      setOrdering(isOn);
      showConfirm(false);
      var next = document.getElementById(isOn ? "ordering-disable" : "ordering-enable");
      if (next) next.focus();
      window.Servio.toast(isOn ? "QR ordering is back on" : "QR ordering is off for every table");
    });
  }

  function wireOrdering() {
    if (!canToggle) return;
    document.getElementById("ordering-disable").addEventListener("click", function () {
      showConfirm(true);
    });
    document.getElementById("ordering-confirm-no").addEventListener("click", function () {
      showConfirm(false);
      document.getElementById("ordering-disable").focus();
    });
    document.getElementById("ordering-confirm-yes").addEventListener("click", function (event) {
      putOrdering(false, event.currentTarget);
    });
    document.getElementById("ordering-enable").addEventListener("click", function (event) {
      putOrdering(true, event.currentTarget);
    });
    document.getElementById("ordering-confirm").addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        showConfirm(false);
        document.getElementById("ordering-disable").focus();
      }
    });
  }

  /* ------------------------------------------------------------------ alerts */

  function alertText(data) {
    if (data.message) return data.message;
    if (data.kind === "qr_ordering") {
      return data.enabled ? "QR ordering was switched back on." : "QR ordering was switched OFF for every table.";
    }
    if (data.kind === "firing_delayed") {
      var point = pointById(data.service_point_id);
      var where = data.table || (point && point.label);
      var order = data.ticket_no ? "ticket #" + data.ticket_no : "order " + (data.order_ref || "");
      var waited = data.waiting_secs ? " for " + coarse(data.waiting_secs * 1000) : "";
      return (where ? where + ": " : "") + "the kitchen has not confirmed " + order + waited + ". Check the POS or fire it by hand.";
    }
    return data.detail || data.kind || "Alert";
  }

  function pushAlert(data, ts) {
    var feed = document.getElementById("alert-feed");
    document.getElementById("alerts-panel").hidden = false;
    var li = el("li", "alert-item alert-kind-" + String(data.kind || "other").replace(/[^a-z_]/g, ""));
    var when = parseTime(ts);
    if (when !== null) li.appendChild(el("time", "alert-time", clockTime(when)));
    var body = el("span", "alert-body", alertText(data));
    li.appendChild(body);
    if (data.by && data.by.name) li.appendChild(el("span", "alert-by", "— " + data.by.name));
    var dismiss = el("button", "btn btn-link alert-dismiss", "Dismiss");
    dismiss.type = "button";
    dismiss.setAttribute("aria-label", "Dismiss alert: " + body.textContent);
    li.appendChild(dismiss);
    feed.insertBefore(li, feed.firstChild);
    while (feed.children.length > ALERTS_SHOWN) feed.removeChild(feed.lastChild);
  }

  /* ------------------------------------------------------------------ live updates */

  function handle(message) {
    if (!message || typeof message.type !== "string") return;
    noteServerTs(message.ts);
    var data = message.data || {};
    switch (message.type) {
      case "ready":
        setConn(source === "sse" ? "fallback" : "live");
        reload();
        break;
      case "table_state": {
        var point = pointById(data.service_point_id);
        if (point) {
          point.state = data.state;
          if (data.label) point.label = data.label;
          render();
          announce(point.label + " is now " + (POINT_STATE_LABEL[data.state] || data.state).toLowerCase());
        } else {
          scheduleRefresh(true);
        }
        break;
      }
      case "session_opened":
        if (!closing[data.session_id]) {
          var isNew = !active[data.session_id];
          upsertActive(data);
          render();
          if (isNew && !ownAction(data.session_id)) announce(labelOf(data) + ": guests seated");
        }
        scheduleRefresh(!pointById(data.service_point_id));
        break;
      case "session_closed": {
        var wasOpen = !!active[data.session_id];
        moveToClosed(data);
        render();
        if (wasOpen && !ownAction(data.session_id)) {
          announce(labelOf(data) + (data.auto_closed ? " was closed automatically" : " was closed"));
        }
        scheduleRefresh(false);
        break;
      }
      case "order_fire_delayed":
        if (data.session_id && active[data.session_id]) {
          active[data.session_id].fired = "retrying";
          render();
        }
        scheduleRefresh(false);
        break;
      case "order_fired":
      case "order_status":
        scheduleRefresh(false);
        break;
      case "bill_requested": {
        var s = active[data.session_id];
        var where = (s && (s.table_label || (pointById(s.service_point_id) || {}).label)) || data.table_label;
        if (where) window.Servio.toast(where + " asked for the bill");
        scheduleRefresh(false);
        break;
      }
      case "alert":
        if (data.kind === "qr_ordering" && typeof data.enabled === "boolean") {
          var changed = data.enabled !== orderingEnabled;
          setOrdering(data.enabled);
          if (changed) pushAlert(data, message.ts); // switched from another screen
          break;
        }
        pushAlert(data, message.ts);
        if (data.session_id) scheduleRefresh(false);
        break;
      default:
        break; // ping, pong and types this page does not show
    }
  }

  var eventSource = null;
  var source = "ws";
  var wsFailuresInARow = 0;
  var link = new kit.Link({ backoffMs: BACKOFF_MS, connect: connect, setConn: setConn });

  function setConn(state) {
    var box = document.getElementById("conn-status");
    var text = {
      connecting: "Connecting…",
      live: "Live",
      fallback: "Live (slow link)",
      reconnecting: "Reconnecting…",
      signed_out: "Signed out",
    }[state];
    box.dataset.state = state;
    box.querySelector("[data-conn-text]").textContent = text || state;
  }

  function signedOut() {
    link.stopped = true;
    setConn("signed_out");
    notice("Your sign-in has ended, so the grid stopped updating. Reload the page to sign in again.");
  }

  function connectSocket() {
    source = "ws";
    var opened = false;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + WS_PATH;
    var socket;
    try {
      socket = link.socket = new WebSocket(url);
    } catch (e) {
      wsFailuresInARow += 1;
      link.scheduleReconnect();
      return;
    }
    socket.onopen = function () {
      opened = true;
    };
    socket.onmessage = function (event) {
      var message = kit.parseMessage(event);
      if (!message) return;
      if (message.type === "ready") wsFailuresInARow = 0;
      link.noteSocketMessage(message);
      handle(message);
    };
    socket.onclose = function (event) {
      link.socketClosed();
      if (event.code === 4401 || event.code === 4403) {
        signedOut();
        return;
      }
      if (!opened) wsFailuresInARow += 1;
      link.scheduleReconnect();
    };
  }

  function connectEvents() {
    source = "sse";
    eventSource = new EventSource(SSE_URL);
    eventSource.onmessage = function (event) {
      var message = kit.parseMessage(event);
      if (!message) return;
      if (message.type === "ready") link.attempts = 0;
      handle(message);
    };
    eventSource.onerror = function () {
      if (eventSource.readyState === EventSource.CLOSED) {
        // Refused (signed out, no permission): go back to trying the socket, slowly.
        eventSource = null;
        wsFailuresInARow = 0;
        link.scheduleReconnect();
      } else {
        setConn("reconnecting"); // EventSource retries by itself
      }
    };
  }

  function connect() {
    if (link.stopped) return;
    var noSockets = typeof window.WebSocket === "undefined";
    if ((noSockets || wsFailuresInARow >= WS_FAILURES_BEFORE_SSE) && typeof window.EventSource !== "undefined") {
      connectEvents();
    } else {
      connectSocket();
    }
  }

  /* "Bill": the table's bill (a new invoice for what is not billed yet, or the open one),
     then its bill screen to take payment. The key is kept while the same tap is retried. */
  var billKeys = {};
  function billSession(sessionId, button) {
    billing[sessionId] = true;
    button.disabled = true;
    button.textContent = "Billing…";
    if (!billKeys[sessionId]) billKeys[sessionId] = window.crypto.randomUUID ? window.crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2);
    var url = "/api/v1/sessions/" + encodeURIComponent(sessionId) + "/bill";
    kit.api("POST", url, {}, { headers: { "Idempotency-Key": billKeys[sessionId] } }).then(function (result) {
      var d = result.data || {};
      var invoice = d.id ? d : (d.items || d.invoices || [])[0];
      if (result.status !== 0 && result.status < 500) delete billKeys[sessionId];
      if (result.ok && invoice && invoice.id) {
        window.location.assign("/staff/bills/" + encodeURIComponent(invoice.id));
        return;
      }
      delete billing[sessionId];
      render();
      notice(problemText(result, "The bill could not be made. Try again."));
    });
  }

  /* ------------------------------------------------------------------ start */

  function onClick(event) {
    var target = event.target.closest("button");
    if (!target || !app.contains(target)) return;
    if (target.dataset.bill) {
      billSession(target.dataset.bill, target);
    } else if (target.dataset.close) {
      closeSession(target.dataset.close, target);
    } else if (target.dataset.restore) {
      restoreSession(target);
    } else if (target.classList.contains("alert-dismiss")) {
      var item = target.closest("li");
      var feed = item.parentElement;
      item.remove();
      if (!feed.children.length) document.getElementById("alerts-panel").hidden = true;
    }
  }

  function start() {
    app = document.getElementById("staff-app");
    if (!app) return;
    grid = document.getElementById("staff-grid");
    closedList = document.getElementById("closed-list");
    summary = document.getElementById("grid-summary");
    currency = app.dataset.currency || "INR";
    timezone = app.dataset.timezone || undefined;
    canManage = app.dataset.canManage === "true";
    canToggle = app.dataset.canToggle === "true";
    canBill = app.dataset.canBill === "true";
    amberAfterMs = parseInt(app.dataset.amberAfterSecs || "3600", 10) * 1000;
    orderingEnabled = app.dataset.orderingEnabled !== "false";

    app.addEventListener("click", onClick);
    wireOrdering();
    reload();
    connect();
    window.setInterval(tick, 1000);
    link.followPage({
      reload: reload,
      mayConnect: function () {
        return !eventSource;
      },
      onHide: function () {
        if (eventSource) eventSource.close();
        eventSource = null;
      },
    });
  }

  kit.onReady(start);
})();
