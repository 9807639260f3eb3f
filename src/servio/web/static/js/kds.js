/* Kitchen display (UI-03, KDS-01): the station screen at /kds?station=…, the station picker
   at /kds and the expo screen at /kds/expo.

   State comes from the kitchen API (`/api/v1/kds/stations`, `/api/v1/kds/tickets`,
   `/api/v1/kds/expo`); changes arrive on `WS /ws/kds?station=…` (station `*` on expo),
   authenticated by the session cookie. Every `ready` on the socket re-reads everything, and
   while the socket is down the page re-reads on a timer, so a lost message costs nothing.
   Ages tick here every second from the server's numbers.

   Station keys: ←/→ move between tickets (↑/↓ within one), 1–9 jump to a ticket,
   Enter/Space bump the ticket, R recall its ready item. Expo: P picks the oldest ready
   ticket. */
(function () {
  "use strict";

  var STATIONS_URL = "/api/v1/kds/stations";
  var TICKETS_URL = "/api/v1/kds/tickets";
  var EXPO_URL = "/api/v1/kds/expo";
  var PICK_OLDEST_URL = "/api/v1/kds/expo/pick_oldest";
  var WS_PATH = "/ws/kds";

  var BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
  var OFFLINE_REREAD_MS = 10000;
  var REFRESH_DEBOUNCE_MS = 200;
  var NEW_FOR_MS = 8000;
  var LAST_STATION_KEY = "servio.kds.station";

  var ITEM_LABEL = {
    queued: "Queued",
    in_progress: "Cooking",
    recalled: "Recalled",
    ready: "Ready",
    served: "Served",
    voided: "Voided",
  };
  // What a tap on an item does, by its status.
  var NEXT_STATUS = { queued: "in_progress", in_progress: "ready", recalled: "ready" };
  var NEXT_LABEL = { queued: "tap to start", in_progress: "tap when ready", recalled: "tap when ready" };
  var DONE_TICKET = { served: true, picked: true, voided: true, cancelled: true, completed: true };

  var app, view, station, slaMs, canOperate, canPick;
  var tickets = {}; // id -> ticket
  var busy = {}; // "item:<id>" | "ticket:<id>" -> true while our request is in flight
  var fresh = {}; // ticket id -> time it arrived live (the "New" flag)
  var stations = [];
  var loading = null;
  var reloadAgain = false;
  var refreshTimer = null;
  var selectedId = null; // the ticket the keys act on

  /* ------------------------------------------------------------------ helpers */

  var kit = window.ServioStaff; // staff-kit.js
  var el = kit.el;
  var api = kit.api;
  var problemText = kit.problemText;
  var parseTime = kit.parseTime;
  var pad = kit.pad;

  function notice(message) {
    kit.notice("kds-notice", message);
  }

  function announce(message) {
    kit.announce("kds-announcer", message);
  }

  /* 4:07, or 1:04:07 past the hour. */
  function clock(ms) {
    var total = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }

  function spoken(ms) {
    var total = Math.max(0, Math.floor(ms / 1000));
    var m = Math.floor(total / 60);
    var s = total % 60;
    return (m ? m + " min " : "") + s + " s";
  }

  /* "tandoor-2" → "Tandoor 2" (as the server writes station names). */
  function titleCase(text) {
    return String(text || "").split(/[-_\s]+/).filter(Boolean).map(function (w) {
      return w.charAt(0).toUpperCase() + w.slice(1);
    }).join(" ");
  }

  /* ------------------------------------------------------------------ ticket state */

  /* Ages count from the server's `age_secs` (no clock skew between the screen and the
     server); `created_at` is the fallback. `_since` is "the ticket's start" on this device. */
  function stamp(ticket, serverTsMs) {
    var t = Object.assign({}, ticket);
    var received = Date.now();
    if (typeof t.age_secs === "number") {
      t._since = received - t.age_secs * 1000;
    } else {
      var created = parseTime(t.created_at);
      var skew = serverTsMs ? serverTsMs - received : 0;
      t._since = created !== null ? created - skew : received;
    }
    var readyAt = parseTime(t.ready_at);
    var created2 = parseTime(t.created_at);
    // When it became ready, on this device's clock (for "ready for 1:20").
    t._readySince = readyAt !== null && created2 !== null ? t._since + (readyAt - created2) : null;
    return t;
  }

  function items(ticket) {
    return Array.isArray(ticket.items) ? ticket.items : [];
  }

  function liveItems(ticket) {
    return items(ticket).filter(function (i) {
      return i.status !== "voided" && i.status !== "served";
    });
  }

  function itemState(item) {
    return item.status === "recalled" ? "recalled" : item.status;
  }

  /* The ticket's state for the kitchen: cooking until every live item is ready. */
  function ticketPhase(ticket) {
    if (ticket.picked_at || DONE_TICKET[ticket.status]) return "done";
    var live = liveItems(ticket);
    if (!live.length) return items(ticket).length ? "done" : ticket.status === "ready" ? "ready" : "queued";
    var anyQueued = false;
    var allReady = true;
    live.forEach(function (i) {
      if (i.status === "queued") anyQueued = true;
      if (i.status !== "ready") allReady = false;
    });
    if (allReady) return "ready";
    if (anyQueued && live.every(function (i) { return i.status === "queued"; })) return "queued";
    return "cooking";
  }

  function bumpLabel(ticket) {
    var live = liveItems(ticket);
    if (live.some(function (i) { return i.status === "queued"; })) return "Tap to start all";
    if (live.some(function (i) { return i.status !== "ready"; })) return "Tap: all ready";
    return "Ready · waiting for expo";
  }

  function isLate(ticket) {
    if (ticketPhase(ticket) !== "cooking" && ticketPhase(ticket) !== "queued") return false;
    return Date.now() - ticket._since >= slaMs;
  }

  function upsert(ticket, serverTsMs) {
    if (!ticket || !ticket.id) return;
    if (view === "station" && ticket.station && ticket.station !== station) return;
    var t = stamp(ticket, serverTsMs);
    if (ticketPhase(t) === "done") {
      delete tickets[t.id];
      return;
    }
    if (tickets[t.id] && tickets[t.id]._breach) t._breach = tickets[t.id]._breach;
    tickets[t.id] = t;
  }

  function ordered() {
    var list = Object.keys(tickets).map(function (id) {
      return tickets[id];
    });
    list.sort(function (a, b) {
      return a._since - b._since || String(a.ticket_no).localeCompare(String(b.ticket_no));
    });
    return list;
  }

  /* Station order: cooking first (oldest first), tickets waiting for expo after them. */
  function stationOrder() {
    var list = ordered();
    var cooking = list.filter(function (t) { return ticketPhase(t) !== "ready"; });
    var ready = list.filter(function (t) { return ticketPhase(t) === "ready"; });
    return cooking.concat(ready);
  }

  /* ------------------------------------------------------------------ loading */

  function listOf(result) {
    if (!result.ok || !result.data) return null;
    if (Array.isArray(result.data.items)) return result.data.items;
    if (Array.isArray(result.data)) return result.data;
    return null;
  }

  function expoLists(result) {
    if (!result.ok || !result.data) return null;
    var d = result.data;
    var all = [];
    ["ready", "cooking", "items", "tickets"].forEach(function (key) {
      if (Array.isArray(d[key])) all = all.concat(d[key]);
    });
    if (Array.isArray(d)) all = d;
    return all;
  }

  /* A read that was in flight while a newer change arrived (a reply to our own tap, a
     socket message) would put the older state back: such a read is dropped and done again,
     a few times at most so a busy kitchen cannot starve the screen. */
  var changes = 0;
  var staleReads = 0;
  var STALE_READS_MAX = 3;

  function noteChange() {
    changes += 1;
  }

  function replaceAll(list, startedAt) {
    if (startedAt !== changes && staleReads < STALE_READS_MAX) {
      staleReads += 1;
      reloadAgain = true;
      return;
    }
    staleReads = 0;
    tickets = {};
    list.forEach(function (t) {
      upsert(t);
    });
  }

  function loadTickets() {
    var startedAt = changes;
    if (view === "expo") {
      return api("GET", EXPO_URL).then(function (result) {
        var list = expoLists(result);
        if (list !== null) replaceAll(list, startedAt);
        return result;
      });
    }
    var base = TICKETS_URL + "?station=" + encodeURIComponent(station) + "&state=";
    return Promise.all([api("GET", base + "active"), api("GET", base + "ready")]).then(function (results) {
      var active = listOf(results[0]);
      if (active !== null) replaceAll(active.concat(listOf(results[1]) || []), startedAt);
      return results[0];
    });
  }

  /* Re-read everything; a second call while one is running runs once more afterwards. */
  function reload() {
    if (loading) {
      reloadAgain = true;
      return loading;
    }
    var work = view === "picker" ? loadStations() : loadTickets();
    loading = work.then(function (result) {
      loading = null;
      if (result && !result.ok) {
        if (result.status === 401) {
          signedOut();
          return;
        }
        notice(problemText(result, "The tickets could not be loaded. The screen keeps trying."));
      } else if (noticeFromLoad) {
        notice("");
      }
      noticeFromLoad = !!(result && !result.ok);
      render();
      if (reloadAgain) {
        reloadAgain = false;
        reload();
      }
    });
    return loading;
  }
  var noticeFromLoad = false;

  function scheduleRefresh() {
    window.clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(reload, REFRESH_DEBOUNCE_MS);
  }

  function loadStations() {
    return api("GET", STATIONS_URL).then(function (result) {
      var list = listOf(result);
      if (list !== null) stations = list;
      return result;
    });
  }

  /* ------------------------------------------------------------------ rendering: station */

  /* Allergens in words on hazard yellow, never a colour alone. */
  function allergenFlags(allergens) {
    var flags = el("span", "item-allergens");
    allergens.forEach(function (a) {
      var flag = el("span", "allergen");
      flag.appendChild(el("span", "allergen-icon", "⚠"));
      flag.appendChild(document.createTextNode(" Allergen: " + titleCase(a)));
      flags.appendChild(flag);
    });
    return flags;
  }

  function itemRow(ticket, item) {
    var status = itemState(item);
    var li = el("li", "item");
    li.dataset.itemId = item.id;
    li.dataset.status = status;
    var next = NEXT_STATUS[status];
    var actionable = canOperate && next;
    var main = el(actionable ? "button" : "div", "item-main");
    if (actionable) {
      main.type = "button";
      main.dataset.advance = item.id;
      main.dataset.next = next;
      if (busy["item:" + item.id]) main.setAttribute("aria-busy", "true");
    }

    var line = el("span", "item-line");
    line.appendChild(el("span", "item-qty", (item.qty || 1) + "×"));
    line.appendChild(el("span", "item-name", item.name || "Item"));
    main.appendChild(line);

    var mods = (item.modifiers || []).map(function (m) {
      return typeof m === "string" ? m : m && m.name;
    }).filter(Boolean);
    if (mods.length) {
      var modList = el("span", "item-mods");
      mods.forEach(function (m) {
        modList.appendChild(el("span", "item-mod", "+ " + m));
      });
      main.appendChild(modList);
    }
    if (item.note) {
      var note = el("span", "item-note");
      note.appendChild(el("span", "item-note-label", "Note: "));
      note.appendChild(document.createTextNode(item.note));
      main.appendChild(note);
    }
    var allergens = (item.allergens || []).filter(Boolean);
    if (allergens.length) main.appendChild(allergenFlags(allergens));

    var state = el("span", "item-state");
    state.appendChild(el("span", "item-state-label", ITEM_LABEL[status] || titleCase(status)));
    if (actionable) state.appendChild(el("span", "item-state-hint", " · " + NEXT_LABEL[status]));
    var recallable = status === "ready" && canOperate && ticketPhase(ticket) !== "done";
    if (!recallable) main.appendChild(state);

    var what = (item.qty || 1) + " " + (item.name || "item");
    if (actionable) {
      var verb = next === "in_progress" ? "Start " : "Mark ready: ";
      main.setAttribute(
        "aria-label",
        verb + what + (mods.length ? ", " + mods.join(", ") : "") + (item.note ? ", note: " + item.note : "") +
          (allergens.length ? ", allergens: " + allergens.join(", ") : "") + ". Now " + (ITEM_LABEL[status] || status)
      );
    }
    li.appendChild(main);

    if (recallable) {
      // The state and Recall share a row under the dish, so the name keeps the full width.
      var foot = el("div", "item-foot");
      foot.appendChild(state);
      var recall = el("button", "btn item-recall", "Recall");
      recall.type = "button";
      recall.dataset.recall = item.id;
      recall.setAttribute("aria-keyshortcuts", "R");
      recall.setAttribute("aria-label", "Recall " + what + " back to cooking");
      if (busy["item:" + item.id]) recall.setAttribute("aria-busy", "true");
      foot.appendChild(recall);
      li.appendChild(foot);
    }
    return li;
  }

  function ticketAge(ticket) {
    var age = el("span", "ticket-age");
    var timer = el("span", "timer", clock(Date.now() - ticket._since));
    timer.dataset.ticket = ticket.id;
    age.appendChild(timer);
    return age;
  }

  function ticketCard(ticket, index, opts) {
    var phase = ticketPhase(ticket);
    var li = el("li", "ticket");
    li.dataset.ticketId = ticket.id;
    li.dataset.phase = phase;
    if (fresh[ticket.id] && Date.now() - fresh[ticket.id] < NEW_FOR_MS) li.classList.add("is-new");
    if (ticket.id === selectedId) li.classList.add("is-selected");

    var headTag = opts.headAction ? "button" : "div";
    var head = el(headTag, "ticket-head");
    if (opts.headAction) {
      head.type = "button";
      head.dataset[opts.headAction] = ticket.id;
      if (busy["ticket:" + ticket.id]) head.setAttribute("aria-busy", "true");
    } else {
      head.tabIndex = 0;
    }
    head.dataset.head = ticket.id;

    var top = el("span", "ticket-top");
    if (index < 9) top.appendChild(el("span", "ticket-key", String(index + 1)));
    top.appendChild(el("span", "ticket-no", "#" + (ticket.ticket_no || "—")));
    top.appendChild(ticketAge(ticket));
    head.appendChild(top);

    var meta = el("span", "ticket-meta");
    meta.appendChild(el("span", "ticket-table", ticket.table ? ticket.table : titleCase(ticket.source || "Counter")));
    if (opts.showStation && ticket.station) meta.appendChild(el("span", "ticket-station", titleCase(ticket.station)));
    var flag = el("span", "ticket-flag");
    flag.dataset.flag = ticket.id;
    meta.appendChild(flag);
    head.appendChild(meta);

    if (opts.headHint) head.appendChild(el("span", "ticket-action", opts.headHint(ticket)));

    var label = "Ticket " + (ticket.ticket_no || "") + ", " + (ticket.table || ticket.source || "counter") +
      (opts.showStation && ticket.station ? ", " + ticket.station : "") + ", " +
      (phase === "ready" ? "ready" : phase === "queued" ? "not started" : "cooking");
    if (opts.headHint) label += ". " + opts.headHint(ticket);
    head.setAttribute("aria-label", label);
    li.appendChild(head);

    var list = el("ul", "ticket-items");
    items(ticket).forEach(function (item) {
      list.appendChild(opts.itemRow(ticket, item));
    });
    li.appendChild(list);
    if (opts.footer) {
      var foot = opts.footer(ticket);
      if (foot) li.appendChild(foot);
    }
    updateFlag(li, ticket);
    return li;
  }

  /* Late and ready flags: in words and with their own border, not colour alone. */
  function updateFlag(card, ticket) {
    var phase = ticketPhase(ticket);
    var late = isLate(ticket) || !!ticket._breach;
    card.dataset.late = late ? "true" : "false";
    var flag = card.querySelector("[data-flag]");
    if (!flag) return;
    var text = "";
    if (late) text = "Late";
    else if (phase === "ready") text = "Ready";
    else if (Date.now() - ticket._since >= slaMs * 0.66) text = "Due soon";
    flag.textContent = text;
    flag.hidden = !text;
    card.dataset.due = text === "Due soon" ? "true" : "false";
  }

  function renderStation() {
    var board = document.getElementById("kds-board");
    var focus = focusKey();
    var list = stationOrder();
    if (selectedId && !tickets[selectedId]) selectedId = null;
    board.textContent = "";
    board.setAttribute("aria-busy", "false");
    if (!list.length) {
      board.appendChild(el("li", "kds-empty", "No tickets. New orders appear here the moment they are sent."));
    }
    list.forEach(function (t, i) {
      board.appendChild(
        ticketCard(t, i, {
          headAction: canOperate && ticketPhase(t) !== "ready" ? "bump" : null,
          headHint: canOperate ? bumpLabel : null,
          itemRow: itemRow,
        })
      );
    });
    var cooking = list.filter(function (t) { return ticketPhase(t) !== "ready"; }).length;
    var ready = list.length - cooking;
    var late = list.filter(function (t) { return isLate(t) || t._breach; }).length;
    var parts = [cooking + (cooking === 1 ? " ticket cooking" : " tickets cooking"), ready + " ready"];
    if (late) parts.push(late + " late");
    setSummary(parts.join(" · "));
    restoreFocus(focus);
  }

  function setSummary(text) {
    var summary = document.getElementById("kds-summary");
    if (summary) summary.textContent = text;
  }

  /* ------------------------------------------------------------------ rendering: expo */

  function expoItemRow(ticket, item) {
    var status = itemState(item);
    var li = el("li", "item");
    li.dataset.status = status;
    var main = el("div", "item-main");
    var line = el("span", "item-line");
    line.appendChild(el("span", "item-qty", (item.qty || 1) + "×"));
    line.appendChild(el("span", "item-name", item.name || "Item"));
    main.appendChild(line);
    var allergens = (item.allergens || []).filter(Boolean);
    if (allergens.length) main.appendChild(allergenFlags(allergens));
    var state = el("span", "item-state");
    state.appendChild(el("span", "item-state-label", ITEM_LABEL[status] || titleCase(status)));
    main.appendChild(state);
    li.appendChild(main);
    return li;
  }

  function pickFooter(ticket) {
    if (!canPick || ticketPhase(ticket) !== "ready") return null;
    var button = el("button", "btn ticket-pick", "Pick #" + (ticket.ticket_no || ""));
    button.type = "button";
    button.dataset.pick = ticket.id;
    if (busy["ticket:" + ticket.id]) button.setAttribute("aria-busy", "true");
    return button;
  }

  function renderExpo() {
    var focus = focusKey();
    var list = ordered();
    if (selectedId && !tickets[selectedId]) selectedId = null;
    var ready = list.filter(function (t) { return ticketPhase(t) === "ready"; });
    var cooking = list.filter(function (t) { return ticketPhase(t) !== "ready"; });
    fill("expo-ready", ready, "Nothing waiting. Ready tickets appear here, oldest first.", pickFooter, true);
    fill("expo-cooking", cooking, "Nothing cooking.", null, false);
    document.getElementById("ready-count").textContent = String(ready.length);
    document.getElementById("cooking-count").textContent = String(cooking.length);
    var pick = document.getElementById("pick-oldest");
    if (pick) pick.disabled = !ready.length || !!busy.oldest;
    var late = cooking.filter(function (t) { return isLate(t) || t._breach; }).length;
    var parts = [ready.length + " ready to pick", cooking.length + " cooking"];
    if (late) parts.push(late + " late");
    setSummary(parts.join(" · "));
    restoreFocus(focus);
  }

  function fill(id, list, empty, footer, numbered) {
    var board = document.getElementById(id);
    board.textContent = "";
    board.setAttribute("aria-busy", "false");
    if (!list.length) board.appendChild(el("li", "kds-empty", empty));
    list.forEach(function (t, i) {
      board.appendChild(
        ticketCard(t, numbered ? i : 99, {
          headAction: null,
          showStation: true,
          itemRow: expoItemRow,
          footer: footer,
        })
      );
    });
  }

  /* ------------------------------------------------------------------ rendering: picker */

  function renderPicker() {
    var list = document.getElementById("station-list");
    list.textContent = "";
    list.setAttribute("aria-busy", "false");
    var last = null;
    try {
      last = window.localStorage.getItem(LAST_STATION_KEY);
    } catch (e) {
      last = null;
    }
    if (!stations.length) {
      list.appendChild(el("li", "kds-empty", "No stations yet. Menu items name the station that cooks them (kitchen, bar, …)."));
    }
    stations.forEach(function (s) {
      var li = el("li", "station");
      var a = el("a", "station-link");
      a.href = "/kds?station=" + encodeURIComponent(s.station);
      a.appendChild(el("span", "station-name", titleCase(s.station)));
      var counts = el("span", "station-counts");
      counts.appendChild(el("span", "station-count", (s.active || 0) + " cooking"));
      counts.appendChild(el("span", "station-count", (s.ready || 0) + " ready"));
      a.appendChild(counts);
      if (s.station === last) {
        a.classList.add("is-last");
        a.appendChild(el("span", "station-last", "This screen last showed it"));
      }
      li.appendChild(a);
      list.appendChild(li);
    });
    var expo = el("li", "station station-expo");
    var link = el("a", "station-link");
    link.href = "/kds/expo";
    link.appendChild(el("span", "station-name", "Expo"));
    link.appendChild(el("span", "station-counts", "Every station · pick ready tickets"));
    expo.appendChild(link);
    list.appendChild(expo);
  }

  function render() {
    if (view === "station") renderStation();
    else if (view === "expo") renderExpo();
    else renderPicker();
  }

  /* ------------------------------------------------------------------ focus and keys */

  function focusKey() {
    var a = document.activeElement;
    if (!a || !app.contains(a) || !a.dataset) return null;
    var keys = ["advance", "recall", "bump", "pick", "head"];
    for (var i = 0; i < keys.length; i++) {
      if (a.dataset[keys[i]]) return { attr: keys[i], id: a.dataset[keys[i]], ticket: ticketOf(a) };
    }
    return null;
  }

  function attrName(key) {
    return "data-" + key.replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); });
  }

  function restoreFocus(key) {
    if (!key) return;
    var target = app.querySelector("[" + attrName(key.attr) + '="' + cssEscape(key.id) + '"]');
    if (!target && key.ticket) target = headOf(key.ticket);
    if (target) target.focus();
  }

  function cssEscape(value) {
    return window.CSS && window.CSS.escape ? window.CSS.escape(value) : String(value).replace(/"/g, '\\"');
  }

  function ticketOf(node) {
    var card = node.closest ? node.closest(".ticket") : null;
    return card ? card.dataset.ticketId : null;
  }

  function headOf(ticketId) {
    return app.querySelector('.ticket[data-ticket-id="' + cssEscape(ticketId) + '"] [data-head]');
  }

  function cards() {
    return Array.prototype.slice.call(app.querySelectorAll(".ticket"));
  }

  function select(ticketId, focus) {
    selectedId = ticketId;
    cards().forEach(function (c) {
      c.classList.toggle("is-selected", c.dataset.ticketId === ticketId);
    });
    if (focus) {
      var head = headOf(ticketId);
      if (head) {
        head.focus();
        if (head.scrollIntoView) head.scrollIntoView({ block: "nearest", inline: "nearest" });
      }
    }
  }

  function currentTicket() {
    var fromFocus = ticketOf(document.activeElement || document.body);
    return fromFocus || selectedId;
  }

  function moveTicket(step) {
    var list = cards();
    if (!list.length) return;
    var current = currentTicket();
    var at = -1;
    for (var i = 0; i < list.length; i++) if (list[i].dataset.ticketId === current) at = i;
    var next = at === -1 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + step));
    select(list[next].dataset.ticketId, true);
  }

  /* ↑/↓ walk the header and the item buttons of the ticket in focus. */
  function moveWithin(step) {
    var current = currentTicket();
    if (!current) return moveTicket(step);
    var card = app.querySelector('.ticket[data-ticket-id="' + cssEscape(current) + '"]');
    if (!card) return;
    var stops = Array.prototype.slice.call(card.querySelectorAll("button, [data-head]")).filter(function (n, i, all) {
      return all.indexOf(n) === i;
    });
    var at = stops.indexOf(document.activeElement);
    var next = at === -1 ? 0 : Math.min(stops.length - 1, Math.max(0, at + step));
    if (stops[next]) stops[next].focus();
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var key = event.key;
    if (view === "picker") return;
    if (key === "ArrowRight" || key === "ArrowLeft") {
      event.preventDefault();
      moveTicket(key === "ArrowRight" ? 1 : -1);
      return;
    }
    if (key === "ArrowDown" || key === "ArrowUp") {
      event.preventDefault();
      moveWithin(key === "ArrowDown" ? 1 : -1);
      return;
    }
    if (/^[1-9]$/.test(key)) {
      var list = view === "expo" ? Array.prototype.slice.call(document.querySelectorAll("#expo-ready .ticket")) : cards();
      var card = list[parseInt(key, 10) - 1];
      if (card) {
        event.preventDefault();
        select(card.dataset.ticketId, true);
      }
      return;
    }
    if (view === "expo") {
      if ((key === "p" || key === "P") && canPick) {
        event.preventDefault();
        pickOldest();
      } else if ((key === "Enter" || key === " ") && canPick && document.activeElement && document.activeElement.dataset.head) {
        var chosen = tickets[document.activeElement.dataset.head];
        if (chosen && ticketPhase(chosen) === "ready") {
          event.preventDefault();
          pick(chosen.id); // Enter on a ready ticket picks that one
        }
      }
      return;
    }
    if (!canOperate) return;
    if (key === "Enter" || key === " " || key === "Spacebar") {
      var active = document.activeElement;
      if (active && active.tagName === "BUTTON" && app.contains(active)) return; // the button's own click
      var id = currentTicket();
      if (id) {
        event.preventDefault();
        bump(id);
      }
      return;
    }
    if (key === "r" || key === "R") {
      event.preventDefault();
      recallInFocus();
    }
  }

  function recallInFocus() {
    var active = document.activeElement;
    var li = active && active.closest ? active.closest(".item") : null;
    if (li && li.dataset.status === "ready") return setItem(li.dataset.itemId, "recalled");
    var id = currentTicket();
    var ticket = id && tickets[id];
    if (!ticket) {
      window.Servio.toast("Choose a ticket first (1–9 or the arrow keys)");
      return;
    }
    // The item that became ready last is the likeliest mistake.
    var ready = items(ticket).filter(function (i) { return i.status === "ready"; });
    ready.sort(function (a, b) {
      return (parseTime(b.ready_at) || 0) - (parseTime(a.ready_at) || 0);
    });
    if (!ready.length) {
      window.Servio.toast("Ticket #" + ticket.ticket_no + " has no ready item to recall");
      return;
    }
    setItem(ready[0].id, "recalled");
  }

  /* ------------------------------------------------------------------ actions */

  function ticketWithItem(itemId) {
    for (var id in tickets) {
      if (!Object.prototype.hasOwnProperty.call(tickets, id)) continue;
      if (items(tickets[id]).some(function (i) { return i.id === itemId; })) return tickets[id];
    }
    return null;
  }

  function applyReply(result) {
    noteChange();
    var ticket = result.data && (result.data.ticket || (result.data.id && result.data.items ? result.data : null));
    if (ticket) upsert(ticket);
    render();
  }

  function failed(result, what) {
    notice(problemText(result, what + " did not go through.") + " The screen was refreshed.");
    scheduleRefresh();
  }

  function setItem(itemId, status) {
    var key = "item:" + itemId;
    if (busy[key]) return;
    busy[key] = true;
    var ticket = ticketWithItem(itemId);
    var item = ticket && items(ticket).filter(function (i) { return i.id === itemId; })[0];
    render();
    api("POST", "/api/v1/kds/items/" + encodeURIComponent(itemId) + "/status", { status: status }).then(function (result) {
      delete busy[key];
      if (!result.ok) {
        render();
        return failed(result, "That change");
      }
      applyReply(result);
      if (item) {
        var words = { in_progress: "started", ready: "ready", recalled: "recalled to cooking" }[status] || status;
        announce(item.name + " " + words);
        if (status === "recalled") window.Servio.toast("Recalled " + item.name + " (ticket #" + ticket.ticket_no + ")");
      }
    });
  }

  function bump(ticketId) {
    var ticket = tickets[ticketId];
    var key = "ticket:" + ticketId;
    if (!ticket || busy[key] || ticketPhase(ticket) === "ready") return;
    busy[key] = true;
    selectedId = ticketId;
    render();
    api("POST", "/api/v1/kds/tickets/" + encodeURIComponent(ticketId) + "/bump").then(function (result) {
      delete busy[key];
      if (!result.ok) {
        render();
        return failed(result, "The bump");
      }
      applyReply(result);
      var now = tickets[ticketId];
      announce("Ticket " + ticket.ticket_no + (now && ticketPhase(now) === "ready" ? " ready" : " started"));
    });
  }

  function removePicked(result, fallbackId) {
    var data = result.data || {};
    var picked = data.ticket || (data.id ? data : null);
    var id = (picked && picked.id) || fallbackId;
    var no = (picked && picked.ticket_no) || (tickets[id] && tickets[id].ticket_no) || "";
    noteChange();
    if (id) delete tickets[id];
    render();
    window.Servio.toast("Picked ticket #" + no);
    announce("Picked ticket " + no);
  }

  function pick(ticketId) {
    var key = "ticket:" + ticketId;
    if (busy[key]) return;
    busy[key] = true;
    render();
    api("POST", "/api/v1/kds/tickets/" + encodeURIComponent(ticketId) + "/pick").then(function (result) {
      delete busy[key];
      if (!result.ok) {
        render();
        return failed(result, "The pick");
      }
      removePicked(result, ticketId);
    });
  }

  function pickOldest() {
    if (busy.oldest) return;
    var ready = ordered().filter(function (t) { return ticketPhase(t) === "ready"; });
    if (!ready.length) {
      window.Servio.toast("No ready ticket to pick");
      return;
    }
    busy.oldest = true;
    render();
    api("POST", PICK_OLDEST_URL).then(function (result) {
      delete busy.oldest;
      if (!result.ok) {
        render();
        if (result.status === 404 || result.status === 409) {
          window.Servio.toast(problemText(result, "No ready ticket to pick"));
          scheduleRefresh();
          return;
        }
        return failed(result, "The pick");
      }
      removePicked(result, ready[0].id);
    });
  }

  function onClick(event) {
    var target = event.target.closest("button, [data-head]");
    if (!target || !app.contains(target)) return;
    var ticketId = ticketOf(target);
    if (ticketId) select(ticketId, false);
    if (target.dataset.advance) setItem(target.dataset.advance, target.dataset.next);
    else if (target.dataset.recall) setItem(target.dataset.recall, "recalled");
    else if (target.dataset.bump) bump(target.dataset.bump);
    else if (target.dataset.pick) pick(target.dataset.pick);
    else if (target.id === "pick-oldest") pickOldest();
    else if (target.id === "kds-notice-close") notice("");
  }

  /* ------------------------------------------------------------------ ticking */

  function tick() {
    var now = Date.now();
    var timers = app.querySelectorAll(".timer[data-ticket]");
    for (var i = 0; i < timers.length; i++) {
      var t = tickets[timers[i].dataset.ticket];
      if (!t) continue;
      var age = now - t._since;
      timers[i].textContent = clock(age);
      timers[i].setAttribute("aria-label", "Age " + spoken(age));
    }
    var all = cards();
    for (var j = 0; j < all.length; j++) {
      var ticket = tickets[all[j].dataset.ticketId];
      if (!ticket) continue;
      updateFlag(all[j], ticket);
      if (all[j].classList.contains("is-new") && now - (fresh[ticket.id] || 0) >= NEW_FOR_MS) {
        all[j].classList.remove("is-new");
      }
    }
  }

  /* ------------------------------------------------------------------ live updates */

  function handle(message) {
    if (!message || typeof message.type !== "string") return;
    var data = message.data || {};
    var ts = parseTime(message.ts);
    if (message.type === "ticket_new" || message.type === "ticket_updated" || message.type === "item_status") {
      noteChange();
    }
    switch (message.type) {
      case "ready":
        setConn("live");
        reload();
        break;
      case "ticket_new": {
        var ticket = data.ticket || data;
        if (ticket && ticket.id) {
          var known = !!tickets[ticket.id];
          upsert(ticket, ts);
          if (!known && tickets[ticket.id]) {
            fresh[ticket.id] = Date.now();
            announce("New ticket " + (ticket.ticket_no || "") + (ticket.table ? " for " + ticket.table : ""));
          }
          render();
        } else {
          scheduleRefresh();
        }
        break;
      }
      case "ticket_updated": {
        var updated = data.ticket || data;
        if (updated && updated.id) {
          upsert(updated, ts);
          render();
        } else {
          scheduleRefresh();
        }
        break;
      }
      case "item_status": {
        var owner = (data.ticket_id && tickets[data.ticket_id]) || ticketWithItem(data.item_id);
        if (owner && data.item_id) {
          var copy = Object.assign({}, owner, {
            items: items(owner).map(function (i) {
              return i.id === data.item_id ? Object.assign({}, i, { status: data.status }) : i;
            }),
          });
          tickets[owner.id] = copy;
          if (ticketPhase(copy) === "done") delete tickets[owner.id];
          render();
        }
        scheduleRefresh(); // the ticket_updated that follows (or a re-read) has the rest
        break;
      }
      case "sla_breach": {
        var late = data.ticket_id && tickets[data.ticket_id];
        if (!late && data.order_line_id) late = ticketWithItem(data.order_line_id);
        if (late) {
          late._breach = true;
          render();
        }
        var where = data.table || (late && late.table) || "";
        var no = data.ticket_no || (late && late.ticket_no) || "";
        window.Servio.toast("Late: " + (no ? "ticket #" + no : "a ticket") + (where ? " · " + where : ""));
        break;
      }
      default:
        break; // ping, pong and types this page does not show
    }
  }

  var offlineTimer = null;
  var link = new kit.Link({ backoffMs: BACKOFF_MS, connect: connect, setConn: setConn });

  function setConn(state) {
    var box = document.getElementById("conn-status");
    if (!box) return;
    var text = {
      connecting: "Connecting…",
      live: "Live",
      reconnecting: "Offline · retrying",
      signed_out: "Signed out",
    }[state];
    box.dataset.state = state;
    box.querySelector("[data-conn-text]").textContent = text || state;
    box.title = state === "reconnecting" ? "The live link is down: this screen re-reads every " + OFFLINE_REREAD_MS / 1000 + " s until it is back" : "";
    document.body.dataset.kdsLive = state === "live" ? "1" : "0";
    // While the socket is down, re-read on a timer so the board never goes stale.
    if (state === "live" || state === "signed_out") {
      window.clearInterval(offlineTimer);
      offlineTimer = null;
    } else if (!offlineTimer && view !== "picker") {
      offlineTimer = window.setInterval(function () {
        if (!link.stopped) reload();
      }, OFFLINE_REREAD_MS);
    }
  }

  function signedOut() {
    link.stopped = true;
    window.clearTimeout(link.reconnectTimer);
    setConn("signed_out");
    notice("Your sign-in has ended, so this screen stopped updating. Reload the page to sign in again.");
  }

  function connect() {
    if (link.stopped || view === "picker") return;
    if (typeof window.WebSocket === "undefined") {
      setConn("reconnecting"); // no sockets at all: the timer re-reads
      return;
    }
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + WS_PATH +
      "?station=" + encodeURIComponent(station);
    var socket;
    try {
      socket = link.socket = new WebSocket(url);
    } catch (e) {
      link.scheduleReconnect();
      return;
    }
    socket.onmessage = function (event) {
      var message = kit.parseMessage(event);
      if (!message) return;
      link.noteSocketMessage(message);
      handle(message);
    };
    socket.onclose = function (event) {
      link.socketClosed();
      if (event.code === 4401) {
        signedOut();
        return;
      }
      if (event.code === 4403) {
        link.stopped = true;
        setConn("signed_out");
        notice("This screen may not follow the kitchen socket. Ask a manager for kitchen access.");
        return;
      }
      link.scheduleReconnect();
    };
  }

  /* ------------------------------------------------------------------ start */

  function start() {
    app = document.getElementById("kds-app");
    if (!app) return;
    view = app.dataset.view || "picker";
    station = app.dataset.station || "";
    slaMs = (parseInt(app.dataset.slaSecs || "900", 10) || 900) * 1000;
    canOperate = app.dataset.canOperate === "true";
    canPick = app.dataset.canPick === "true";
    if (view === "station") {
      try {
        window.localStorage.setItem(LAST_STATION_KEY, station);
      } catch (e) {
        /* private mode: nothing to remember */
      }
    }

    app.addEventListener("click", onClick);
    app.addEventListener("focusin", function (event) {
      var id = ticketOf(event.target);
      if (id && id !== selectedId) select(id, false);
    });
    document.addEventListener("keydown", onKey);
    reload();
    if (view !== "picker") {
      setConn("connecting");
      connect();
      window.setInterval(tick, 1000);
    } else {
      setConn("live");
      document.getElementById("conn-status").hidden = true;
    }
    link.followPage({
      reload: reload,
      mayConnect: function () {
        return view !== "picker";
      },
    });
  }

  kit.onReady(start);
})();
