/* Console helpers shared by the console pages: JSON calls to the API with the session cookie
   and CSRF header (servio.js), Problem+JSON shown next to the fields it names, money
   formatting, the licence usage bars, table-row pieces and dialogs. */
(function () {
  "use strict";

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  /* fetch → {ok, status, data, headers}. `body` may be an object (sent as JSON) or FormData.
     POSTs carry an Idempotency-Key: routes that need one get it, the others ignore it. */
  function api(method, url, body, extraHeaders) {
    var headers = new Headers(extraHeaders || {});
    var opts = { method: method, headers: headers };
    if (body instanceof FormData) {
      opts.body = body;
    } else if (body !== undefined && body !== null) {
      headers.set("Content-Type", "application/json");
      opts.body = JSON.stringify(body);
    }
    if (method === "POST" && !headers.has("Idempotency-Key")) headers.set("Idempotency-Key", newKey());
    return window.Servio.request(url, opts).then(
      function (response) {
        var type = response.headers.get("content-type") || "";
        var parse = type.indexOf("json") !== -1 ? response.json() : Promise.resolve(null);
        return parse.then(function (data) {
          return { ok: response.ok, status: response.status, data: data, headers: response.headers };
        });
      },
      function () {
        return {
          ok: false,
          status: 0,
          data: { title: "No connection", detail: "The server could not be reached. Check the connection and try again." },
          headers: new Headers(),
        };
      }
    );
  }

  /* ---- problems shown on forms ---- */

  function fieldFor(form, loc) {
    var path = (loc || []).filter(function (part) {
      return part !== "body" && part !== "query" && part !== "path";
    });
    while (path.length) {
      var key = path.join(".");
      var el =
        form.querySelector('[data-field="' + key + '"]') || form.querySelector('[name="' + key + '"]');
      if (el) return el;
      path.pop(); // "business_hours.mon.0" → "business_hours.mon" → "business_hours"
    }
    return null;
  }

  function humanMessage(error) {
    var msg = (error.msg || "is not valid").replace(/^Value error, /, "");
    return capitalise(msg);
  }

  function clearProblems(form, alertBox) {
    var marked = form.querySelectorAll("[aria-invalid]");
    for (var i = 0; i < marked.length; i++) marked[i].removeAttribute("aria-invalid");
    var old = form.querySelectorAll(".field-error[data-generated]");
    for (var j = 0; j < old.length; j++) {
      var owner = form.querySelector('[aria-describedby~="' + old[j].id + '"]');
      if (owner) {
        var rest = owner.getAttribute("aria-describedby").split(" ").filter(function (id) {
          return id && id !== old[j].id;
        });
        if (rest.length) owner.setAttribute("aria-describedby", rest.join(" "));
        else owner.removeAttribute("aria-describedby");
      }
      old[j].remove();
    }
    if (alertBox) alertBox.hidden = true;
  }

  function markField(el, message, index) {
    var target = el.matches("fieldset, table, [data-field]:not(input):not(select):not(textarea)")
      ? el.querySelector("input, select, textarea") || el
      : el;
    target.setAttribute("aria-invalid", "true");
    var note = document.createElement("span");
    note.className = "field-error";
    note.id = (target.id || "field") + "-problem-" + index;
    note.setAttribute("data-generated", "");
    note.textContent = message;
    var holder = el.closest(".field") || el.parentElement;
    holder.appendChild(note);
    var described = (target.getAttribute("aria-describedby") || "").trim();
    target.setAttribute("aria-describedby", (described + " " + note.id).trim());
    return target;
  }

  /* Show a Problem+JSON body: per-field messages for `errors[].loc` (or a `field` the problem
     names), and a summary in the alert box that takes focus. */
  function showProblem(form, alertBox, problem) {
    clearProblems(form, alertBox);
    problem = problem || {};
    var errors = Array.isArray(problem.errors) ? problem.errors.slice() : [];
    if (!errors.length && problem.field) errors.push({ loc: [problem.field], msg: problem.detail });
    var items = [];
    var firstField = null;
    errors.forEach(function (error, index) {
      var el = fieldFor(form, error.loc);
      var message = humanMessage(error);
      if (el) {
        var target = markField(el, message, index);
        firstField = firstField || target;
        var label = form.querySelector('label[for="' + target.id + '"]');
        items.push({ text: (label ? label.textContent.trim() + ": " : "") + message, target: target });
      } else {
        items.push({ text: message, target: null });
      }
    });
    if (!alertBox) return;
    alertBox.querySelector("[data-alert-title]").textContent =
      problem.status === 422 || errors.length ? "Please check the form" : problem.title || "That did not work";
    var detail = errors.length ? "" : problem.detail || "";
    if (problem.hint) detail = (detail ? detail + ". " : "") + capitalise(problem.hint) + ".";
    alertBox.querySelector("[data-alert-detail]").textContent = capitalise(detail);
    var list = alertBox.querySelector("[data-alert-list]");
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      if (item.target && item.target.id) {
        var link = document.createElement("a");
        link.href = "#" + item.target.id;
        link.textContent = item.text;
        li.appendChild(link);
      } else {
        li.textContent = item.text;
      }
      list.appendChild(li);
    });
    alertBox.hidden = false;
    alertBox.focus();
  }

  function capitalise(text) {
    return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
  }

  /* A form marked busy by servio.js's data-submit-once comes back to life. */
  function release(form) {
    form.removeAttribute("aria-busy");
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].removeAttribute("aria-disabled");
      buttons[i].disabled = false;
      if (buttons[i].dataset.idleLabel) buttons[i].textContent = buttons[i].dataset.idleLabel;
    }
  }

  function busy(form) {
    form.setAttribute("aria-busy", "true");
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].dataset.idleLabel = buttons[i].dataset.idleLabel || buttons[i].textContent;
      if (buttons[i].dataset.busyLabel) buttons[i].textContent = buttons[i].dataset.busyLabel;
      buttons[i].disabled = true;
    }
  }

  /* ---- money: integer minor units ↔ text ---- */

  var formatters = {};
  function formatter(currency) {
    if (!formatters[currency]) {
      formatters[currency] = new Intl.NumberFormat(currency === "INR" ? "en-IN" : undefined, {
        style: "currency",
        currency: currency,
      });
    }
    return formatters[currency];
  }

  function exponent(currency) {
    return formatter(currency).resolvedOptions().maximumFractionDigits;
  }

  function formatMoney(minor, currency) {
    return formatter(currency).format(minor / Math.pow(10, exponent(currency)));
  }

  /* "250", "250.5", "1,250.50" → minor units without floating point; null when not a price. */
  function toMinor(text, currency) {
    var places = exponent(currency);
    var clean = String(text).replace(/[,\s₹]/g, "");
    var match = /^(\d+)(?:\.(\d*))?$/.exec(clean);
    if (!match || (match[2] || "").length > places) return null;
    var fraction = ((match[2] || "") + "000000").slice(0, places);
    return parseInt(match[1], 10) * Math.pow(10, places) + (places ? parseInt(fraction, 10) : 0);
  }

  function fromMinor(minor, currency) {
    var places = exponent(currency);
    if (!places) return String(minor);
    var whole = Math.floor(minor / Math.pow(10, places));
    var fraction = String(minor % Math.pow(10, places));
    while (fraction.length < places) fraction = "0" + fraction;
    return whole + "." + fraction;
  }

  /* ---- licence usage bars ---- */

  var UNIT_TEXT = { max_tables: "tables", max_menu_items: "items", max_images_mb: "MB" };

  function usageRows(data) {
    if (!data) return [];
    if (Array.isArray(data.items)) return data.items;
    if (Array.isArray(data)) return data;
    return Object.keys(data).map(function (key) {
      var value = data[key];
      return typeof value === "object" && value ? Object.assign({ name: key }, value) : null;
    }).filter(Boolean);
  }

  function refreshUsage() {
    var box = document.querySelector("[data-usage]");
    if (!box) return Promise.resolve();
    return api("GET", "/api/v1/limits/usage").then(function (result) {
      if (!result.ok) return;
      usageRows(result.data).forEach(function (row) {
        var key = row.name || row.key || row.limit_name;
        var item = box.querySelector('[data-usage-key="' + key + '"]');
        if (!item) return;
        var used = row.used;
        var limit = row.limit === undefined ? row.allowed : row.limit;
        var unit = item.getAttribute("data-usage-unit") || UNIT_TEXT[key] || "";
        var text = limit === null || limit === undefined
          ? used + " " + unit + " · no limit"
          : used + " of " + limit + " " + unit;
        item.querySelector(".usage-text").textContent = text;
        var bar = item.querySelector("progress");
        if (bar && limit) {
          bar.max = limit;
          bar.value = Math.min(used, limit);
          bar.textContent = text;
        }
        var level = limit === null || limit === undefined ? "unlimited"
          : used >= limit ? "full" : used >= limit * 0.8 ? "near" : "ok";
        item.className = "usage-item usage-" + level;
      });
    });
  }

  /* ---- small DOM helpers ---- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /* Show `message` in the page's notice box (`id`, holding a [data-notice-text] element). */
  function notice(id, message) {
    var box = document.getElementById(id);
    box.querySelector("[data-notice-text]").textContent = message;
    box.hidden = false;
  }

  /* A problem+json body as one sentence ("Detail. Hint."), else the fallback. */
  function problemText(data, fallback) {
    var d = data || {};
    var parts = [capitalise(d.detail || d.title || "")];
    if (d.hint) parts.push(capitalise(d.hint));
    var text = parts.filter(Boolean).join(". ");
    return text ? text.replace(/\.?$/, ".") : fallback;
  }

  /* The notice box `id` shows the problem in `data` (or the fallback) and takes the focus. */
  function showError(id, data, fallback) {
    var box = document.getElementById(id);
    box.querySelector("[data-notice-text]").textContent = problemText(data, fallback);
    box.hidden = false;
    box.focus();
  }

  function hideError(id) {
    document.getElementById(id).hidden = true;
  }

  /* A small table-row button; `className` replaces the secondary look (e.g. "btn-primary"). */
  function button(label, aria, className) {
    var b = el("button", "btn btn-sm " + (className || "btn-secondary"), label);
    b.type = "button";
    if (aria) b.setAttribute("aria-label", aria);
    return b;
  }

  /* One full-width muted row in an otherwise empty table body. */
  function emptyRow(body, colspan, text) {
    var row = el("tr");
    var cell = el("td", "empty-row muted", text);
    cell.colSpan = colspan;
    row.appendChild(cell);
    body.appendChild(row);
  }

  /* A URL that wraps after its slashes rather than mid-word. */
  function urlText(className, url) {
    var node = el("span", className);
    var parts = String(url).split("/");
    parts.forEach(function (part, index) {
      node.appendChild(document.createTextNode(part + (index < parts.length - 1 ? "/" : "")));
      if (index < parts.length - 1) node.appendChild(document.createElement("wbr"));
    });
    return node;
  }

  /* An on/off switch (role=switch) that calls `onClick` when pressed. */
  function switchButton(on, label, onClick) {
    var toggle = el("button", "switch");
    toggle.type = "button";
    toggle.setAttribute("role", "switch");
    toggle.setAttribute("aria-checked", on ? "true" : "false");
    toggle.setAttribute("aria-label", label);
    toggle.appendChild(el("span", "switch-track"));
    toggle.appendChild(el("span", "switch-text", on ? "On" : "Off"));
    toggle.addEventListener("click", onClick);
    return toggle;
  }

  /* An ISO instant as day, month and time to the second in `timeZone` (the browser's when
     the zone is unknown to it). */
  function dateTime(iso, timeZone) {
    if (!iso) return "—";
    var at = new Date(iso);
    if (isNaN(at)) return iso;
    var options = { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit" };
    try {
      return new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: timeZone }, options)).format(at);
    } catch (error) {
      return at.toLocaleString();
    }
  }

  /* ---- dialogs: focus goes back to the element that opened them ---- */

  function openDialog(dialog, opener) {
    dialog._opener = opener || document.activeElement;
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
  }

  function closeDialog(dialog) {
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
  }

  function refocus(dialog) {
    var opener = dialog._opener;
    if (opener && document.body.contains(opener)) opener.focus();
  }

  /* The dialog's [data-close] buttons close it. */
  function closeButtons(dialog) {
    Array.prototype.forEach.call(dialog.querySelectorAll("[data-close]"), function (b) {
      b.addEventListener("click", function () { closeDialog(dialog); });
    });
  }

  /* Asks in the page's #confirm-dialog; resolves true when the person confirms. */
  function confirmAction(title, text, action, opener) {
    var dialog = document.getElementById("confirm-dialog");
    document.getElementById("confirm-title").textContent = title;
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = action;
    dialog.returnValue = "";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        refocus(dialog);
        resolve(dialog.returnValue === "confirm");
      });
      openDialog(dialog, opener);
    });
  }

  window.ServioConsole = {
    api: api,
    el: el,
    notice: notice,
    newKey: newKey,
    showProblem: showProblem,
    clearProblems: clearProblems,
    busy: busy,
    release: release,
    formatMoney: formatMoney,
    toMinor: toMinor,
    fromMinor: fromMinor,
    refreshUsage: refreshUsage,
    capitalise: capitalise,
    problemText: problemText,
    showError: showError,
    hideError: hideError,
    button: button,
    emptyRow: emptyRow,
    urlText: urlText,
    switchButton: switchButton,
    dateTime: dateTime,
    openDialog: openDialog,
    closeDialog: closeDialog,
    refocus: refocus,
    closeButtons: closeButtons,
    confirmAction: confirmAction,
  };
})();
