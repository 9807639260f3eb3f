/* Webhooks: endpoints (create — the signing secret shown once —, enable/disable, rotate the
   secret after a manager's PIN, delete), each endpoint's delivery log with "Replay", the
   integration catalogue's sample payloads and a probe of an unsaved URL. Everything goes
   through the JSON API (common.js); text from the server only goes in as text. */
(function () {
  "use strict";

  var C = window.ServioConsole;
  var N = window.ServioNotify;
  var el = C.el;

  var timeZone;
  var rotateAction = "";
  var samples = {};
  var logEndpoint = null;
  var logCursor = null;

  /* ---- text ---- */

  function when(iso) {
    return C.dateTime(iso, timeZone);
  }

  /* The one moment a secret is visible: a read-only field, a copy button, and the warning. */
  function showSecret(title, label, secret, graceUntil, opener) {
    var dialog = document.getElementById("secret-dialog");
    document.getElementById("secret-title").textContent = title;
    document.getElementById("secret-label").textContent = label;
    var input = document.getElementById("secret-value");
    input.value = secret;
    var grace = document.getElementById("secret-grace");
    grace.hidden = !graceUntil;
    grace.textContent = graceUntil ? "The old secret keeps signing (as a second signature) until " + when(graceUntil) + "." : "";
    document.getElementById("secret-copy").textContent = "Copy";
    C.openDialog(dialog, opener);
    input.focus();
    input.select();
  }

  function copySecret() {
    var input = document.getElementById("secret-value");
    var copyButton = document.getElementById("secret-copy");
    function copied() {
      copyButton.textContent = "Copied";
      window.Servio.toast("Secret copied");
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(copied, function () {
        input.select();
        copyButton.textContent = "Press Ctrl+C";
      });
    } else {
      input.select();
      copyButton.textContent = "Press Ctrl+C";
    }
  }

  /* ---- endpoints ---- */

  function lastDelivery(endpoint) {
    var cell = el("td", "notify-last");
    var last = endpoint.last_delivery;
    if (!last) {
      cell.appendChild(el("span", "muted small", "None yet"));
      return cell;
    }
    var text = last.ok ? "OK" : "Failed";
    if (last.status_code) text += " · " + last.status_code;
    cell.appendChild(el("span", "badge " + (last.ok ? "badge-success" : "badge-danger"), text));
    cell.appendChild(el("span", "small muted", when(last.at)));
    return cell;
  }

  function endpointRow(endpoint) {
    var row = el("tr");
    row.dataset.endpointId = endpoint.id;
    if (!endpoint.enabled) row.className = "is-off";
    var name = el("td", "notify-event");
    name.appendChild(el("strong", null, endpoint.name));
    if (endpoint.previous_secret_valid_until) {
      name.appendChild(el("span", "small muted", "Old secret valid until " + when(endpoint.previous_secret_valid_until)));
    }
    row.appendChild(name);
    var url = el("td", "notify-url");
    url.appendChild(C.urlText("mono", endpoint.url));
    row.appendChild(url);
    row.appendChild(el("td", "mono notify-hint", endpoint.secret_hint || "—"));
    var enabled = el("td");
    var toggle = C.switchButton(endpoint.enabled, "Enabled: " + endpoint.name, function () { toggleEndpoint(endpoint, toggle); });
    enabled.appendChild(toggle);
    row.appendChild(enabled);
    row.appendChild(lastDelivery(endpoint));
    var actions = el("td", "row-actions");
    var log = C.button("Deliveries", "Deliveries of " + endpoint.name);
    log.addEventListener("click", function () { openLog(endpoint); });
    var rotate = C.button("Rotate secret", "Rotate the secret of " + endpoint.name);
    rotate.addEventListener("click", function () { askRotate(endpoint, rotate); });
    var remove = C.button("Delete", "Delete " + endpoint.name, "btn-link notify-danger");
    remove.addEventListener("click", function () { deleteEndpoint(endpoint, remove); });
    actions.appendChild(log);
    actions.appendChild(rotate);
    actions.appendChild(remove);
    row.appendChild(actions);
    return row;
  }

  function loadEndpoints() {
    return C.api("GET", "/api/v1/webhooks/endpoints?limit=200").then(function (result) {
      var body = document.getElementById("endpoint-rows");
      body.textContent = "";
      if (!result.ok) {
        C.showError("endpoints-error", N.forbidden(result), "The endpoints could not be loaded.");
        return;
      }
      C.hideError("endpoints-error");
      var items = result.data.items || [];
      if (!items.length) {
        C.emptyRow(body, 6, "No webhook endpoints yet. Create one below.");
        return;
      }
      items.forEach(function (endpoint) { body.appendChild(endpointRow(endpoint)); });
    });
  }

  function submitEndpoint(event) {
    event.preventDefault();
    var form = event.target;
    var alertBox = document.getElementById("endpoint-errors");
    var body = {
      name: form.elements.name.value.trim(),
      url: form.elements.url.value.trim(),
      outlet_id: form.elements.outlet_id.value || null,
    };
    C.busy(form);
    C.api("POST", "/api/v1/webhooks/endpoints", body).then(function (result) {
      C.release(form);
      if (!result.ok) {
        C.showProblem(form, alertBox, N.forbidden(result));
        return;
      }
      C.clearProblems(form, alertBox);
      form.reset();
      loadEndpoints();
      showSecret("Endpoint created", "Signing secret of " + result.data.name, result.data.secret, null, form.querySelector("button[type=submit]"));
    });
  }

  function toggleEndpoint(endpoint, toggle) {
    N.toggleEnabled({
      url: "/api/v1/webhooks/endpoints/" + encodeURIComponent(endpoint.id),
      version: endpoint.version,
      button: toggle,
      noun: "endpoint",
      errorId: "endpoints-error",
      reload: loadEndpoints,
      toast: function (on) { return endpoint.name + (on ? " enabled" : " disabled"); },
      row: endpointRow,
    });
  }

  function deleteEndpoint(endpoint, opener) {
    C.confirmAction(
      "Delete " + endpoint.name + "?",
      "Servio stops sending to " + endpoint.url + ". Alert rules that use it stop delivering.",
      "Delete endpoint",
      opener
    ).then(function (yes) {
      if (!yes) return;
      C.api("DELETE", "/api/v1/webhooks/endpoints/" + encodeURIComponent(endpoint.id), null, { "If-Match": '"' + endpoint.version + '"' }).then(function (result) {
        if (!result.ok) {
          C.showError("endpoints-error", N.forbidden(result), "The endpoint could not be deleted.");
          return;
        }
        window.Servio.toast(endpoint.name + " deleted");
        if (logEndpoint && logEndpoint.id === endpoint.id) document.getElementById("deliveries-card").hidden = true;
        loadEndpoints().then(function () { document.getElementById("endpoint-name").focus(); });
      });
    });
  }

  /* ---- rotation (manager PIN → approval token → new secret) ---- */

  var rotating = null;

  function askRotate(endpoint, opener) {
    rotating = endpoint;
    var form = document.getElementById("rotate-form");
    C.clearProblems(form, document.getElementById("rotate-errors"));
    form.reset();
    document.getElementById("rotate-title").textContent = "Rotate the secret of " + endpoint.name;
    C.openDialog(document.getElementById("rotate-dialog"), opener);
    document.getElementById("rotate-pin").focus();
  }

  function submitRotate(event) {
    event.preventDefault();
    var form = event.target;
    var alertBox = document.getElementById("rotate-errors");
    var dialog = document.getElementById("rotate-dialog");
    var endpoint = rotating;
    var pin = form.elements.pin.value.trim();
    if (!pin) {
      C.showProblem(form, alertBox, { status: 422, errors: [{ loc: ["pin"], msg: "a manager enters their PIN" }] });
      return;
    }
    C.busy(form);
    C.api("POST", "/api/v1/approvals/verify_pin", { action: rotateAction, pin: pin }).then(function (approval) {
      if (!approval.ok) {
        C.release(form);
        form.elements.pin.value = "";
        C.showProblem(form, alertBox, approval.data);
        return null;
      }
      return C.api("POST", "/api/v1/webhooks/endpoints/" + encodeURIComponent(endpoint.id) + "/rotate_secret", { approval_token: approval.data.approval_token }).then(function (result) {
        C.release(form);
        form.reset();
        if (!result.ok) {
          C.showProblem(form, alertBox, N.forbidden(result));
          return;
        }
        var opener = dialog._opener;
        C.closeDialog(dialog);
        loadEndpoints();
        showSecret("Secret rotated", "New signing secret of " + endpoint.name, result.data.secret, result.data.previous_valid_until, opener);
      });
    });
  }

  /* ---- delivery log ---- */

  function deliveryRow(attempt) {
    var row = el("tr");
    row.appendChild(el("td", "nums", when(attempt.started_at)));
    row.appendChild(el("td", "mono", attempt.event || "—"));
    row.appendChild(el("td", null, attempt.kind || "delivery"));
    row.appendChild(el("td", "nums", String(attempt.attempt || 1)));
    N.attemptOutcomeCells(row, attempt);
    var actions = el("td", "row-actions");
    var messageId = attempt.outbox_id || attempt.message_id;
    if (messageId) {
      var replay = C.button("Replay", "Replay " + (attempt.event || "the delivery") + " of " + when(attempt.started_at));
      replay.addEventListener("click", function () { replayDelivery(messageId, replay); });
      actions.appendChild(replay);
    }
    row.appendChild(actions);
    return row;
  }

  function loadDeliveries(append) {
    var url = "/api/v1/webhooks/endpoints/" + encodeURIComponent(logEndpoint.id) + "/deliveries?limit=25";
    if (append && logCursor) url += "&cursor=" + encodeURIComponent(logCursor);
    return C.api("GET", url).then(function (result) {
      var body = document.getElementById("delivery-rows");
      var more = document.getElementById("deliveries-more");
      if (!append) body.textContent = "";
      if (!result.ok) {
        C.showError("deliveries-error", N.forbidden(result), "The delivery log could not be loaded.");
        return;
      }
      C.hideError("deliveries-error");
      var items = result.data.items || [];
      if (!items.length && !append) {
        C.emptyRow(body, 8, "Nothing sent to this endpoint yet.");
      }
      items.forEach(function (attempt) { body.appendChild(deliveryRow(attempt)); });
      logCursor = result.data.next_cursor || null;
      more.hidden = !logCursor;
    });
  }

  function openLog(endpoint) {
    logEndpoint = endpoint;
    logCursor = null;
    var card = document.getElementById("deliveries-card");
    var title = document.getElementById("deliveries-title");
    title.textContent = "Delivery log · " + endpoint.name;
    card.hidden = false;
    loadDeliveries(false).then(function () {
      card.scrollIntoView({ block: "start" });
      title.focus();
    });
  }

  function replayDelivery(messageId, replay) {
    replay.disabled = true;
    C.api("POST", "/api/v1/webhooks/" + encodeURIComponent(messageId) + "/replay", {}).then(function (result) {
      replay.disabled = false;
      if (!result.ok) {
        C.showError("deliveries-error", N.forbidden(result), "The delivery could not be replayed.");
        return;
      }
      window.Servio.toast("Queued again with the same webhook-id");
    });
  }

  /* ---- catalogue and probe ---- */

  function showSample() {
    var select = document.getElementById("catalogue-event");
    var entry = samples[select.value];
    document.getElementById("catalogue-description").textContent = entry ? entry.description || "" : "";
    document.getElementById("catalogue-sample").textContent = entry ? JSON.stringify(entry.sample, null, 2) : "";
  }

  function fillEventSelect(select, events, selected) {
    select.textContent = "";
    var groups = {};
    events.forEach(function (entry) {
      var prefix = entry.event.split(".")[0];
      if (!groups[prefix]) {
        groups[prefix] = el("optgroup");
        groups[prefix].label = C.capitalise(prefix.replace(/_/g, " "));
        select.appendChild(groups[prefix]);
      }
      var option = el("option", null, entry.event);
      option.value = entry.event;
      if (entry.event === selected) option.selected = true;
      groups[prefix].appendChild(option);
    });
  }

  function loadCatalogue() {
    return C.api("GET", "/api/v1/admin/integrations").then(function (result) {
      if (!result.ok) {
        C.showError("catalogue-error", N.forbidden(result), "The catalogue could not be loaded.");
        return;
      }
      var channels = document.getElementById("catalogue-channels");
      channels.textContent = "";
      (result.data.channels || []).forEach(function (channel) {
        var item = el("li", "notify-channel");
        var head = el("span", "notify-channel-head");
        head.appendChild(el("strong", null, N.channelName(channel.type)));
        head.appendChild(el("span", "badge " + (channel.configured ? "badge-success" : "badge-plain"), channel.configured ? "Configured" : "Not configured"));
        item.appendChild(head);
        if (channel.description) item.appendChild(el("span", "small muted", channel.description));
        channels.appendChild(item);
      });
      var events = (result.data.events || []).slice().sort(function (a, b) { return a.event < b.event ? -1 : 1; });
      events.forEach(function (entry) { samples[entry.event] = entry; });
      fillEventSelect(document.getElementById("catalogue-event"), events, "order.placed");
      fillEventSelect(document.getElementById("probe-event"), events, "order.placed");
      showSample();
    });
  }

  function submitProbe(event) {
    event.preventDefault();
    var form = event.target;
    var alertBox = document.getElementById("probe-errors");
    var holder = document.getElementById("probe-result");
    var body = { target: form.elements.target.value.trim(), event: form.elements.event.value };
    C.busy(form);
    holder.textContent = "";
    C.api("POST", "/api/v1/admin/integrations/webhook/probe", body).then(function (result) {
      C.release(form);
      if (!result.ok) {
        C.showProblem(form, alertBox, N.forbidden(result));
        return;
      }
      C.clearProblems(form, alertBox);
      var data = result.data;
      var note = data.signing_secret ? N.codeNote("small", "Signed with the one-time secret ", data.signing_secret) : null;
      holder.appendChild(N.deliveryResult(data, note));
    });
  }

  function init() {
    var app = document.getElementById("webhooks-app");
    if (!app) return;
    timeZone = app.dataset.timezone || undefined;
    rotateAction = app.dataset.rotateAction;

    document.getElementById("endpoint-form").addEventListener("submit", submitEndpoint);
    document.getElementById("rotate-form").addEventListener("submit", submitRotate);
    document.getElementById("probe-form").addEventListener("submit", submitProbe);
    document.getElementById("catalogue-event").addEventListener("change", showSample);
    document.getElementById("secret-copy").addEventListener("click", copySecret);
    document.getElementById("deliveries-refresh").addEventListener("click", function () { loadDeliveries(false); });
    document.getElementById("deliveries-more").addEventListener("click", function () { loadDeliveries(true); });

    var secretDialog = document.getElementById("secret-dialog");
    document.getElementById("secret-done").addEventListener("click", function () { C.closeDialog(secretDialog); });
    secretDialog.addEventListener("close", function () {
      document.getElementById("secret-value").value = ""; // gone from the page once dismissed
      C.refocus(secretDialog);
    });
    var rotateDialog = document.getElementById("rotate-dialog");
    C.closeButtons(rotateDialog);
    rotateDialog.addEventListener("close", function () {
      document.getElementById("rotate-pin").value = "";
      if (!secretDialog.open) C.refocus(rotateDialog);
    });

    loadEndpoints();
    loadCatalogue();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
