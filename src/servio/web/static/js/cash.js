/* Staff cash drawer screen (PAY-04): pick a drawer, open it with a float, record cash in and
   out with a reason, a no-sale behind a manager PIN, and close it with the counted amount →
   expected vs counted and the variance; the session's movements underneath.

   Reads `GET /api/v1/cash/drawers` and `GET /api/v1/cash/sessions/current?drawer_id=`;
   writes `POST /api/v1/cash/sessions`, `POST /api/v1/cash/sessions/{id}/movements`,
   `POST /api/v1/cash/sessions/{id}/close` (each with an Idempotency-Key kept for retries of
   the same request) and `POST /api/v1/approvals/verify_pin {action: "no_sale"}`. */
(function () {
  "use strict";

  var kit = window.ServioStaff;
  var el = kit.el;
  var app, currency, timezone;
  var drawers = [];
  var drawerId = "";
  var session = null;
  var sessionAsked = 0; // numbers loadSession calls: only the latest may render
  var STORE = "servio.cash.drawer";

  function money(minor) {
    return kit.formatMoney(minor, currency, "–");
  }
  function parseMoney(text) {
    return kit.parseMoney(text, currency);
  }
  function clock(value) {
    return kit.clock(value, timezone);
  }
  var items = kit.items;
  var moneyPost = kit.moneyPost;
  function error(message) {
    kit.notice("cash-error", message);
    if (message) document.getElementById("cash-error").focus();
  }
  function ok(message) {
    kit.notice("cash-ok", message);
  }

  var MOVE = { sale: "Cash sale", refund: "Cash refund", cash_in: "Cash in", cash_out: "Cash out", no_sale: "No sale", opening_float: "Opening float" };
  var OUT = { refund: true, cash_out: true };

  function dlRow(dl, label, value, cls) {
    var row = el("div", "fact" + (cls ? " " + cls : ""));
    row.appendChild(el("dt", "", label));
    row.appendChild(el("dd", "", value));
    dl.appendChild(row);
  }

  function renderOpen() {
    var dl = document.getElementById("cash-figures");
    dl.textContent = "";
    var s = session;
    dlRow(dl, "Opened", clock(s.opened_at));
    dlRow(dl, "Opening float", money(s.opening_float));
    dlRow(dl, "Cash sales", money(s.cash_sales));
    dlRow(dl, "Cash refunds", money(s.cash_refunds ? -s.cash_refunds : 0));
    dlRow(dl, "Cash in", money(s.cash_in));
    dlRow(dl, "Cash out", money(s.cash_out ? -s.cash_out : 0));
    dlRow(dl, "Expected in the drawer", money(s.expected), "total");
  }

  function renderMovements(list, show) {
    var section = document.getElementById("moves-section");
    var body = document.getElementById("moves-body");
    body.textContent = "";
    section.hidden = !(session || show);
    if (!list.length) {
      var tr = el("tr");
      var td = el("td", "muted", "No cash movements yet.");
      td.colSpan = 4;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    list.forEach(function (m) {
      var tr = el("tr");
      tr.dataset.type = m.type;
      tr.appendChild(el("td", "", clock(m.created_at)));
      tr.appendChild(el("td", "", MOVE[m.type] || m.type));
      tr.appendChild(el("td", "", m.reason || ""));
      var out = m.direction !== undefined ? m.direction < 0 : !!OUT[m.type];
      tr.appendChild(el("td", "num", m.type === "no_sale" ? "–" : (out ? "−" : "+") + money(m.amount)));
      body.appendChild(tr);
    });
  }

  function render() {
    var open = !!(session && session.state !== "closed");
    document.getElementById("cash-closed").hidden = open || !drawerId;
    document.getElementById("cash-open").hidden = !open;
    var drawer = drawers.filter(function (d) { return d.id === drawerId; })[0];
    document.getElementById("cash-title").textContent = drawer ? drawer.name + (open ? " · open" : " · closed") : "Cash drawer";
    app.dataset.state = open ? "open" : "closed";
    if (open) renderOpen();
    renderMovements(session ? session.movements || [] : []);
  }

  /* The drawer's open session with its figures and movements (`GET /api/v1/cash/sessions/
     {id}`), or none. The drawer list says which session is open, so a closed drawer costs
     no request (and no 404). */
  function loadSession() {
    var asked = ++sessionAsked;
    var drawer = drawers.filter(function (d) { return d.id === drawerId; })[0];
    if (!drawer || !drawer.open_session_id) {
      session = null;
      render();
      return Promise.resolve();
    }
    return kit.api("GET", "/api/v1/cash/sessions/" + encodeURIComponent(drawer.open_session_id)).then(function (r) {
      // The cashier picked another drawer while this was on its way: its answer is stale.
      if (asked !== sessionAsked) return;
      if (r.ok && r.data && r.data.id) {
        session = r.data.state === "closed" ? null : r.data;
      } else if (r.status === 404) {
        session = null;
      } else {
        error(kit.problemText(r, "The drawer could not be read."));
        return;
      }
      render();
    });
  }

  /* The drawers again (which one is open changed), then the chosen drawer's session. */
  function refreshDrawers() {
    return kit.api("GET", "/api/v1/cash/drawers").then(function (r) {
      if (r.ok) drawers = items(r).filter(function (d) { return d.is_active !== false; });
      return loadSession();
    });
  }

  function loadDrawers() {
    return kit.api("GET", "/api/v1/cash/drawers").then(function (r) {
      var select = document.getElementById("cash-drawer");
      select.textContent = "";
      if (!r.ok) {
        error(kit.problemText(r, "The drawers could not be loaded."));
        return;
      }
      drawers = items(r).filter(function (d) { return d.is_active !== false; });
      if (!drawers.length) {
        select.appendChild(el("option", "", "No drawers yet"));
        select.disabled = true;
        error("This outlet has no cash drawer yet. An owner adds one in the console.");
        return;
      }
      var saved = "";
      try { saved = localStorage.getItem(STORE) || ""; } catch (e) { saved = ""; }
      drawers.forEach(function (d) {
        var o = el("option", "", d.name);
        o.value = d.id;
        select.appendChild(o);
      });
      drawerId = drawers.some(function (d) { return d.id === saved; }) ? saved : drawers[0].id;
      select.value = drawerId;
      return loadSession();
    });
  }

  function busy(button, on, label) {
    button.disabled = on;
    if (label) button.textContent = label;
  }

  function openDrawer(event) {
    event.preventDefault();
    error("");
    var amount = parseMoney(document.getElementById("open-float").value);
    if (amount === null) return error("Enter the opening float (0 for an empty drawer).");
    var button = document.getElementById("open-submit");
    busy(button, true, "Opening…");
    moneyPost("/api/v1/cash/sessions", { drawer_id: drawerId, opening_float: amount }).then(function (r) {
      busy(button, false, "Open drawer");
      if (!r.ok) return error(kit.problemText(r, "The drawer could not be opened."));
      document.getElementById("open-float").value = "";
      document.getElementById("cash-result").hidden = true;
      ok("Drawer opened with a float of " + money(amount) + ".");
      session = r.data && r.data.id ? r.data : null;
      refreshDrawers();
    });
  }

  function move(event) {
    event.preventDefault();
    error("");
    var type = (document.querySelector('input[name="move-type"]:checked') || {}).value || "cash_in";
    var amount = parseMoney(document.getElementById("move-amount").value);
    var reason = document.getElementById("move-reason").value.trim();
    if (!amount) return error("Enter the amount.");
    if (!reason) return error("Say what the cash is for.");
    var button = document.getElementById("move-submit");
    busy(button, true, "Recording…");
    moneyPost("/api/v1/cash/sessions/" + encodeURIComponent(session.id) + "/movements", { type: type, amount: amount, reason: reason }).then(function (r) {
      busy(button, false, "Record");
      if (!r.ok) return error(kit.problemText(r, "The movement could not be recorded."));
      document.getElementById("move-amount").value = "";
      document.getElementById("move-reason").value = "";
      ok((MOVE[type] || type) + " of " + money(amount) + " recorded.");
      if (r.data && r.data.id) {
        session = r.data;
        render();
      } else {
        loadSession();
      }
    });
  }

  function noSale(event) {
    event.preventDefault();
    error("");
    var reason = document.getElementById("nosale-reason").value.trim();
    var pin = document.getElementById("nosale-pin").value.trim();
    if (!reason) return error("Say why the drawer is opened.");
    if (!pin) return error("A manager must enter their PIN.");
    var button = document.getElementById("nosale-submit");
    busy(button, true);
    kit.api("POST", "/api/v1/approvals/verify_pin", { action: "no_sale", pin: pin }).then(function (r) {
      var token = kit.approvalToken(r.data);
      document.getElementById("nosale-pin").value = "";
      if (!r.ok || !token) {
        busy(button, false);
        return error(kit.problemText(r, "That PIN was not accepted."));
      }
      var url = "/api/v1/cash/sessions/" + encodeURIComponent(session.id) + "/movements";
      return moneyPost(url, { type: "no_sale", amount: 0, reason: reason, approval: token }).then(function (m) {
        busy(button, false);
        if (!m.ok) return error(kit.problemText(m, "The no-sale could not be recorded."));
        document.getElementById("nosale-reason").value = "";
        ok("No-sale recorded. The drawer may be opened.");
        if (m.data && m.data.id) {
          session = m.data;
          render();
        } else {
          loadSession();
        }
      });
    });
  }

  function closeDrawer(event) {
    event.preventDefault();
    error("");
    var counted = parseMoney(document.getElementById("close-counted").value);
    if (counted === null) return error("Enter the cash you counted.");
    var body = { counted: counted };
    var note = document.getElementById("close-note").value.trim();
    if (note) body.note = note;
    var button = document.getElementById("close-submit");
    busy(button, true, "Closing…");
    var closing = session;
    moneyPost("/api/v1/cash/sessions/" + encodeURIComponent(closing.id) + "/close", body).then(function (r) {
      busy(button, false, "Close drawer");
      if (!r.ok) return error(kit.problemText(r, "The drawer could not be closed."));
      var s = r.data || {};
      var expected = s.expected;
      var got = s.counted;
      var variance = s.variance;
      var dl = document.getElementById("result-figures");
      dl.textContent = "";
      dlRow(dl, "Expected", money(expected), "expected");
      dlRow(dl, "Counted", money(got), "counted");
      var label = variance === 0 ? "Variance (balanced)" : variance > 0 ? "Variance (over)" : "Variance (short)";
      dlRow(dl, label, (variance > 0 ? "+" : "") + money(variance), "variance" + (variance ? (variance > 0 ? " over" : " short") : " even"));
      var result = document.getElementById("cash-result");
      result.hidden = false;
      document.getElementById("close-counted").value = "";
      document.getElementById("close-note").value = "";
      ok("");
      var movements = (s.movements || (closing && closing.movements) || []);
      session = null;
      drawers.forEach(function (d) { if (d.id === drawerId) d.open_session_id = null; });
      render();
      renderMovements(movements, true);
      result.focus();
    });
  }

  function start() {
    app = document.getElementById("cash-app");
    if (!app) return;
    currency = app.dataset.currency || "INR";
    timezone = app.dataset.timezone || undefined;
    document.getElementById("cash-drawer").addEventListener("change", function (event) {
      drawerId = event.target.value;
      try { localStorage.setItem(STORE, drawerId); } catch (e) { /* private mode */ }
      error("");
      ok("");
      document.getElementById("cash-result").hidden = true;
      loadSession();
    });
    var forms = { "open-form": openDrawer, "move-form": move, "nosale-form": noSale, "close-form": closeDrawer };
    Object.keys(forms).forEach(function (id) {
      var form = document.getElementById(id);
      if (form) form.addEventListener("submit", forms[id]);
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && drawerId) refreshDrawers();
    });
    loadDrawers();
  }

  kit.onReady(start);
})();
