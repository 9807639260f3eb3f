/* Outbox & jobs: the outbox by status (detail drawer with every attempt, "Retry" for pending
   and dead rows), the dead-letter queue (requeue, discard after a confirmation) and the jobs
   status (state, heartbeats, failures in a row, outbox depth). Everything goes through the
   JSON API (common.js); payloads arrive scrubbed and only go in as text. */
(function () {
  "use strict";

  var C = window.ServioConsole;
  var N = window.ServioNotify;
  var el = C.el;
  var STATUS_BADGE = { pending: "info", processing: "primary", delivered: "success", dead: "danger", discarded: "plain" };
  var JOB_BADGE = { ok: "success", failing: "danger", stale: "warning" };

  var timeZone;
  var canOutbox = false;
  var canJobs = false;
  var canIntegrations = false;
  var endpointNames = {};
  var outboxCursor = null;
  var dlqCursor = null;

  /* ---- text ---- */

  function when(iso) {
    return C.dateTime(iso, timeZone);
  }

  function ago(iso) {
    if (!iso) return "never";
    var seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
    if (isNaN(seconds)) return iso;
    if (seconds < 5) return "just now";
    if (seconds < 90) return seconds + " s ago";
    if (seconds < 5400) return Math.round(seconds / 60) + " min ago";
    if (seconds < 129600) return Math.round(seconds / 3600) + " h ago";
    return when(iso);
  }

  function badge(kind, text) {
    return el("span", "badge badge-" + kind, text);
  }

  function forbidden(result) {
    return N.forbidden(result, "your role may not see or change this");
  }

  function topicCell(message) {
    var cell = el("td", "notify-event");
    cell.appendChild(el("span", "mono", message.event || message.topic));
    if (message.event) cell.appendChild(el("span", "small muted", message.topic));
    return cell;
  }

  /* A webhook notification's target is its endpoint: named when this role may see them. */
  function targetCell(message) {
    var cell = el("td", "notify-target");
    var name = message.channel === "webhook" ? endpointNames[(message.payload || {}).target || message.target_display] : null;
    if (name) cell.appendChild(el("strong", "notify-target-name", name));
    cell.appendChild(el("span", "mono small", message.target_display || "—"));
    return cell;
  }

  function loadEndpointNames() {
    if (!canIntegrations) return Promise.resolve();
    return C.api("GET", "/api/v1/webhooks/endpoints?limit=200").then(function (result) {
      if (!result.ok) return;
      (result.data.items || []).forEach(function (e) { endpointNames[e.id] = e.name; });
    });
  }

  function errorCell(message) {
    var cell = el("td", "notify-error");
    if (message.last_error) {
      var text = el("span", "small", message.last_error);
      text.title = message.last_error;
      cell.appendChild(text);
    } else {
      cell.appendChild(el("span", "muted", "—"));
    }
    return cell;
  }

  /* ---- outbox ---- */

  /* The list's `attempts` is a count; the detail may carry the attempt rows under a name of
     its own, so both shapes are read. */
  function attemptCount(message) {
    return typeof message.attempts === "number" ? message.attempts : (message.attempts || []).length;
  }

  function attemptRows(message) {
    var rows = [message.attempts_log, message.attempts].filter(Array.isArray);
    return rows.length ? rows[0] : [];
  }

  function label(message) {
    return (message.event || message.topic) + " (" + message.status + ")";
  }

  function outboxRow(message) {
    var row = el("tr");
    row.dataset.messageId = message.id;
    row.appendChild(topicCell(message));
    row.appendChild(el("td", null, message.channel ? N.channelName(message.channel) : "—"));
    row.appendChild(targetCell(message));
    var status = el("td");
    status.appendChild(badge(STATUS_BADGE[message.status] || "plain", message.status));
    row.appendChild(status);
    row.appendChild(el("td", "nums", attemptCount(message) + " / " + message.max_attempts));
    row.appendChild(el("td", "nums", message.status === "pending" ? when(message.next_attempt_at) : "—"));
    row.appendChild(errorCell(message));
    var actions = el("td", "row-actions");
    var details = C.button("Details", "Details of " + label(message));
    details.addEventListener("click", function () { openMessage(message.id, details); });
    actions.appendChild(details);
    if (message.status === "pending" || message.status === "dead") {
      var retry = C.button("Retry", "Retry " + label(message), "btn-primary");
      retry.addEventListener("click", function () { retryMessage(message.id, retry); });
      actions.appendChild(retry);
    }
    row.appendChild(actions);
    return row;
  }

  function loadOutbox(append) {
    var status = document.getElementById("outbox-status").value;
    var url = "/api/v1/outbox?limit=50" + (status ? "&status=" + encodeURIComponent(status) : "");
    if (append && outboxCursor) url += "&cursor=" + encodeURIComponent(outboxCursor);
    return C.api("GET", url).then(function (result) {
      var body = document.getElementById("outbox-rows");
      if (!append) body.textContent = "";
      if (!result.ok) {
        C.showError("outbox-error", forbidden(result), "The outbox could not be loaded.");
        return;
      }
      C.hideError("outbox-error");
      var items = result.data.items || [];
      if (!items.length && !append) C.emptyRow(body, 8, status ? "No " + status + " messages." : "The outbox is empty.");
      items.forEach(function (message) { body.appendChild(outboxRow(message)); });
      outboxCursor = result.data.next_cursor || null;
      document.getElementById("outbox-more").hidden = !outboxCursor;
    });
  }

  function retryMessage(id, button) {
    button.disabled = true;
    return C.api("POST", "/api/v1/outbox/" + encodeURIComponent(id) + "/retry", {}).then(function (result) {
      button.disabled = false;
      if (!result.ok) {
        C.showError("outbox-error", forbidden(result), "The message could not be retried.");
        return false;
      }
      window.Servio.toast("Retrying now");
      loadOutbox(false);
      loadDlq(false);
      refreshJobs();
      return true;
    });
  }

  function fact(list, term, value, mono) {
    list.appendChild(el("dt", null, term));
    list.appendChild(el("dd", mono ? "mono" : null, value === null || value === undefined || value === "" ? "—" : String(value)));
  }

  function attemptsTable(attempts) {
    var wrap = el("div", "table-wrap");
    var table = el("table", "table notify-table");
    table.setAttribute("aria-label", "Delivery attempts");
    var head = el("thead");
    var headRow = el("tr");
    ["#", "Time", "Kind", "Status", "Duration", "Result"].forEach(function (name) {
      var th = el("th", null, name);
      th.scope = "col";
      headRow.appendChild(th);
    });
    head.appendChild(headRow);
    table.appendChild(head);
    var body = el("tbody");
    attempts.forEach(function (a) {
      var row = el("tr");
      row.appendChild(el("td", "nums", String(a.attempt)));
      row.appendChild(el("td", "nums", when(a.started_at)));
      row.appendChild(el("td", null, a.kind || "delivery"));
      N.attemptOutcomeCells(row, a);
      body.appendChild(row);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    return wrap;
  }

  function openMessage(id, opener) {
    var drawer = document.getElementById("message-drawer");
    var holder = document.getElementById("message-detail");
    var retry = document.getElementById("message-retry");
    holder.textContent = "";
    holder.appendChild(el("p", "muted", "Loading…"));
    retry.hidden = true;
    C.openDialog(drawer, opener);
    C.api("GET", "/api/v1/outbox/" + encodeURIComponent(id)).then(function (result) {
      holder.textContent = "";
      if (!result.ok) {
        var problem = el("div", "alert alert-danger");
        problem.appendChild(el("p", null, C.problemText(forbidden(result), "The message could not be loaded.")));
        holder.appendChild(problem);
        return;
      }
      var m = result.data;
      document.getElementById("message-title").textContent = m.event || m.topic;
      var facts = el("dl", "facts notify-facts");
      fact(facts, "Status", m.status);
      fact(facts, "Topic", m.topic, true);
      fact(facts, "Channel", m.channel ? N.channelName(m.channel) : null);
      fact(facts, "Target", m.target_display, true);
      fact(facts, "Attempts", attemptCount(m) + " of " + m.max_attempts);
      fact(facts, "Created", when(m.created_at));
      fact(facts, "Next attempt", m.status === "pending" ? when(m.next_attempt_at) : null);
      fact(facts, "Delivered", m.delivered_at ? when(m.delivered_at) : null);
      fact(facts, "webhook-id", m.webhook_id, true);
      fact(facts, "Dedupe key", m.dedupe_key, true);
      fact(facts, "Last error", m.last_error);
      holder.appendChild(facts);
      holder.appendChild(el("h3", "notify-sub", "Attempts"));
      var attempts = attemptRows(m);
      if (attempts.length) holder.appendChild(attemptsTable(attempts));
      else holder.appendChild(el("p", "small muted", "No delivery attempts recorded."));
      holder.appendChild(el("h3", "notify-sub", "Payload"));
      holder.appendChild(el("pre", "notify-json", JSON.stringify(m.payload, null, 2)));
      retry.hidden = !(m.status === "pending" || m.status === "dead");
      retry.dataset.messageId = m.id;
    });
  }

  /* ---- dead letters ---- */

  function dlqRow(message) {
    var row = el("tr");
    row.dataset.messageId = message.id;
    row.appendChild(el("td", "nums", when(message.created_at)));
    row.appendChild(topicCell(message));
    row.appendChild(el("td", null, message.channel ? N.channelName(message.channel) : "—"));
    row.appendChild(targetCell(message));
    row.appendChild(el("td", "nums", attemptCount(message) + " / " + message.max_attempts));
    row.appendChild(errorCell(message));
    var actions = el("td", "row-actions");
    var details = C.button("Details", "Details of " + label(message));
    details.addEventListener("click", function () { openMessage(message.id, details); });
    var requeue = C.button("Requeue", "Requeue " + label(message), "btn-primary");
    requeue.addEventListener("click", function () { requeueMessage(message, requeue); });
    var discard = C.button("Discard", "Discard " + label(message), "btn-link notify-danger");
    discard.addEventListener("click", function () { discardMessage(message, discard); });
    actions.appendChild(details);
    actions.appendChild(requeue);
    actions.appendChild(discard);
    row.appendChild(actions);
    return row;
  }

  function loadDlq(append) {
    var url = "/api/v1/dlq?limit=50";
    if (append && dlqCursor) url += "&cursor=" + encodeURIComponent(dlqCursor);
    return C.api("GET", url).then(function (result) {
      var body = document.getElementById("dlq-rows");
      if (!append) body.textContent = "";
      if (!result.ok) {
        C.showError("dlq-error", forbidden(result), "The dead letters could not be loaded.");
        return;
      }
      C.hideError("dlq-error");
      var items = result.data.items || [];
      if (!items.length && !append) C.emptyRow(body, 7, "No dead letters. Everything was delivered or is still being tried.");
      items.forEach(function (message) { body.appendChild(dlqRow(message)); });
      dlqCursor = result.data.next_cursor || null;
      document.getElementById("dlq-more").hidden = !dlqCursor;
      var shown = body.querySelectorAll("tr[data-message-id]").length;
      document.getElementById("dlq-count").textContent = shown ? String(shown) + (dlqCursor ? "+" : "") : "";
    });
  }

  function afterDlqChange(message) {
    loadOutbox(false);
    refreshJobs();
    return loadDlq(false).then(function () {
      var next = document.querySelector("#dlq-rows button");
      (next || document.getElementById("tab-dlq")).focus();
    });
  }

  function requeueMessage(message, button) {
    button.disabled = true;
    C.api("POST", "/api/v1/dlq/" + encodeURIComponent(message.id) + "/requeue", {}).then(function (result) {
      if (!result.ok) {
        button.disabled = false;
        C.showError("dlq-error", forbidden(result), "The message could not be requeued.");
        return;
      }
      window.Servio.toast((message.event || message.topic) + " requeued");
      afterDlqChange(message);
    });
  }

  function discardMessage(message, button) {
    C.confirmAction(
      "Discard this message?",
      "“" + (message.event || message.topic) + "” to " + (message.target_display || "its destination") + " will never be delivered. This cannot be undone.",
      "Discard",
      button
    ).then(function (yes) {
      if (!yes) return;
      button.disabled = true;
      C.api("DELETE", "/api/v1/dlq/" + encodeURIComponent(message.id)).then(function (result) {
        if (!result.ok) {
          button.disabled = false;
          C.showError("dlq-error", forbidden(result), "The message could not be discarded.");
          return;
        }
        window.Servio.toast((message.event || message.topic) + " discarded");
        afterDlqChange(message);
      });
    });
  }

  /* ---- tabs (arrow keys move between them, as the ARIA tabs pattern says) ---- */

  function selectTab(tab) {
    var tabs = document.querySelectorAll(".notify-tabs [role=tab]");
    Array.prototype.forEach.call(tabs, function (each) {
      var on = each === tab;
      each.setAttribute("aria-selected", on ? "true" : "false");
      each.tabIndex = on ? 0 : -1;
      document.getElementById(each.getAttribute("aria-controls")).hidden = !on;
    });
  }

  function initTabs() {
    var tabs = Array.prototype.slice.call(document.querySelectorAll(".notify-tabs [role=tab]"));
    tabs.forEach(function (tab, index) {
      tab.addEventListener("click", function () { selectTab(tab); });
      tab.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
        else if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
        else if (event.key === "Home") next = tabs[0];
        else if (event.key === "End") next = tabs[tabs.length - 1];
        if (!next) return;
        event.preventDefault();
        selectTab(next);
        next.focus();
      });
    });
  }

  /* ---- jobs ---- */

  function jobRow(job) {
    var row = el("tr");
    row.dataset.job = job.job;
    row.appendChild(el("td", "mono", job.job));
    var state = el("td");
    state.appendChild(badge(JOB_BADGE[job.state] || "plain", job.state));
    row.appendChild(state);
    var beat = el("td", "nums", ago(job.last_beat_at));
    beat.title = when(job.last_beat_at);
    row.appendChild(beat);
    var success = el("td", "nums", ago(job.last_success_at));
    success.title = when(job.last_success_at);
    row.appendChild(success);
    row.appendChild(el("td", "nums" + (job.consecutive_failures ? " notify-bad" : ""), String(job.consecutive_failures || 0)));
    row.appendChild(errorCell({ last_error: job.last_error }));
    return row;
  }

  function refreshJobs() {
    if (!canJobs) return Promise.resolve();
    return C.api("GET", "/api/v1/admin/jobs/status").then(function (result) {
      var body = document.getElementById("job-rows");
      var health = document.getElementById("jobs-health");
      body.textContent = "";
      if (!result.ok) {
        health.className = "badge badge-plain";
        health.textContent = "Unknown";
        C.showError("jobs-error", forbidden(result), "The jobs status could not be loaded.");
        return;
      }
      C.hideError("jobs-error");
      var data = result.data;
      health.className = "badge " + (data.healthy ? "badge-success" : "badge-danger");
      health.textContent = data.healthy ? "Worker healthy" : "Worker not beating";
      var jobs = data.jobs || [];
      if (!jobs.length) C.emptyRow(body, 6, "No job has reported a heartbeat yet.");
      jobs.forEach(function (job) { body.appendChild(jobRow(job)); });
      var depth = document.getElementById("outbox-depth");
      depth.textContent = "";
      var counts = (data.outbox && data.outbox.depth) || {};
      ["pending", "processing", "delivered", "dead"].concat(Object.keys(counts).filter(function (k) {
        return ["pending", "processing", "delivered", "dead"].indexOf(k) === -1;
      })).forEach(function (status) {
        var item = el("div", "notify-depth-item" + (status === "dead" && counts[status] ? " notify-depth-dead" : ""));
        item.appendChild(el("dt", null, C.capitalise(status)));
        item.appendChild(el("dd", "nums", String(counts[status] || 0)));
        depth.appendChild(item);
      });
      if (data.outbox && data.outbox.oldest_pending_age_seconds) {
        var oldest = el("div", "notify-depth-item");
        oldest.appendChild(el("dt", null, "Oldest pending"));
        oldest.appendChild(el("dd", "nums", Math.round(data.outbox.oldest_pending_age_seconds) + " s"));
        depth.appendChild(oldest);
      }
    });
  }

  function init() {
    var app = document.getElementById("outbox-app");
    if (!app) return;
    timeZone = app.dataset.timezone || undefined;
    canOutbox = app.dataset.canOutbox === "true";
    canJobs = app.dataset.canJobs === "true";
    canIntegrations = app.dataset.canIntegrations === "true";

    if (canJobs) {
      document.getElementById("jobs-refresh").addEventListener("click", refreshJobs);
      refreshJobs();
    }
    if (!canOutbox) return;
    initTabs();
    document.getElementById("outbox-status").addEventListener("change", function () { loadOutbox(false); });
    document.getElementById("outbox-refresh").addEventListener("click", function () { loadOutbox(false); });
    document.getElementById("outbox-more").addEventListener("click", function () { loadOutbox(true); });
    document.getElementById("dlq-more").addEventListener("click", function () { loadDlq(true); });

    var drawer = document.getElementById("message-drawer");
    C.closeButtons(drawer);
    drawer.addEventListener("close", function () { C.refocus(drawer); });
    var retry = document.getElementById("message-retry");
    retry.addEventListener("click", function () {
      retryMessage(retry.dataset.messageId, retry).then(function (done) {
        if (done) C.closeDialog(drawer);
      });
    });

    loadEndpointNames().then(function () {
      loadOutbox(false);
      loadDlq(false);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
