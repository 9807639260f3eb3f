/* Pieces shared by the notification pages (alerts, webhooks, outbox & jobs): channel names,
   the reading of a 403, the enabled switch of a rule or endpoint, and how one delivery
   (a test send, a probe, an attempt in a log) is shown. Needs common.js. */
(function () {
  "use strict";

  var C = window.ServioConsole;
  var el = C.el;
  var CHANNEL_NAMES = { webhook: "Webhook", email: "E-mail", whatsapp: "WhatsApp", sms: "SMS", console: "Console log" };

  function channelName(channel) {
    return CHANNEL_NAMES[channel] || C.capitalise(channel);
  }

  /* A 403 says what the role may not do; any other failure shows the server's problem. */
  function forbidden(result, detail) {
    return result.status === 403
      ? { detail: detail || "your role may not do this", hint: "ask an owner or admin" }
      : result.data;
  }

  function outcome(ok, yes, no) {
    return el("span", "badge " + (ok ? "badge-success" : "badge-danger"), ok ? yes : no);
  }

  /* PATCH {enabled} with If-Match. The row is redrawn from the answer; a 412 reloads the list.
     options: url, version, button, noun, errorId, reload(), toast(on), row(data). */
  function toggleEnabled(options) {
    var toggle = options.button;
    var on = toggle.getAttribute("aria-checked") !== "true";
    toggle.setAttribute("aria-busy", "true");
    toggle.disabled = true;
    C.api("PATCH", options.url, { enabled: on }, { "If-Match": '"' + options.version + '"' }).then(function (result) {
      toggle.removeAttribute("aria-busy");
      toggle.disabled = false;
      if (!result.ok) {
        var stale = result.status === 412;
        var reason = stale ? { detail: "someone else changed this " + options.noun, hint: "the list is reloaded; try again" } : forbidden(result);
        C.showError(options.errorId, reason, "The " + options.noun + " could not be changed.");
        if (stale) options.reload();
        return;
      }
      window.Servio.toast(options.toast(on));
      var fresh = options.row(result.data);
      toggle.closest("tr").replaceWith(fresh);
      fresh.querySelector("[role=switch]").focus();
    });
  }

  /* "<text> <code>value</code>" as a small line under a result. */
  function codeNote(className, text, value) {
    var note = el("p", className);
    note.appendChild(document.createTextNode(text));
    note.appendChild(el("code", null, value));
    return note;
  }

  /* The answer of a test send or a probe: outcome, HTTP status and time, the receiver's
     detail, an optional note, and the payload that was sent. */
  function deliveryResult(data, note) {
    var box = el("div", "notify-result");
    var head = el("p", "notify-result-head");
    head.appendChild(outcome(data.ok, "Delivered", "Failed"));
    var facts = [];
    if (data.status_code !== null && data.status_code !== undefined) facts.push("HTTP " + data.status_code);
    if (data.duration_ms !== null && data.duration_ms !== undefined) facts.push(data.duration_ms + " ms");
    head.appendChild(el("span", "small", facts.join(" · ")));
    box.appendChild(head);
    if (data.detail) box.appendChild(el("p", "small notify-detail", C.capitalise(data.detail)));
    if (note) box.appendChild(note);
    box.appendChild(el("h3", "notify-sub", "Payload sent"));
    box.appendChild(el("pre", "notify-json", JSON.stringify(data.payload === undefined ? null : data.payload, null, 2)));
    return box;
  }

  /* The last cells of a delivery attempt's row: HTTP status, duration, outcome and error. */
  function attemptOutcomeCells(row, attempt) {
    var code = attempt.status_code;
    row.appendChild(el("td", "nums", code === null || code === undefined ? "—" : String(code)));
    row.appendChild(el("td", "nums", (attempt.duration_ms || 0) + " ms"));
    var result = el("td", "notify-outcome");
    result.appendChild(outcome(attempt.ok, "OK", "Error"));
    if (attempt.error) result.appendChild(el("span", "small muted", attempt.error));
    row.appendChild(result);
  }

  window.ServioNotify = {
    channelName: channelName,
    forbidden: forbidden,
    toggleEnabled: toggleEnabled,
    codeNote: codeNote,
    deliveryResult: deliveryResult,
    attemptOutcomeCells: attemptOutcomeCells,
  };
})();
