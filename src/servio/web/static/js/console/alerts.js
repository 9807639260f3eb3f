/* Alerts: the tenant's alert rules (event → channel → target), a create form whose target
   field follows the channel, the enabled switch (PATCH with If-Match), "Test" with the
   delivery's result and the sample payload that was sent, and delete after a confirmation.
   Everything goes through the JSON API (common.js); text from the server only goes in as
   text, and targets are only ever shown as the API masks them. */
(function () {
  "use strict";

  var C = window.ServioConsole;
  var el = C.el;
  var CHANNEL_NAMES = { webhook: "Webhook", email: "E-mail", whatsapp: "WhatsApp", sms: "SMS", console: "Console log" };
  var TARGET_FIELD = { webhook: "webhook", email: "email", whatsapp: "phone", sms: "phone", console: "console" };

  var canIntegrations = false;
  var outletNames = {};
  var endpoints = [];

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

  /* ---- dialogs ---- */

  function openDialog(dialog) {
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
  }

  function closeDialog(dialog) {
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
  }

  /* Resolves true when the person confirms; focus goes back to `opener` either way. */
  function confirmAction(title, text, action, opener) {
    var dialog = document.getElementById("confirm-dialog");
    document.getElementById("confirm-title").textContent = title;
    document.getElementById("confirm-text").textContent = text;
    document.getElementById("confirm-ok").textContent = action;
    dialog.returnValue = "";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        if (opener && document.body.contains(opener)) opener.focus();
        resolve(dialog.returnValue === "confirm");
      });
      openDialog(dialog);
    });
  }

  /* ---- rules ---- */

  function eventLabel(event) {
    return event === "*" ? "Every event" : event;
  }

  function rulesColspan() {
    return 6;
  }

  function switchButton(rule) {
    var button = el("button", "switch");
    button.type = "button";
    button.setAttribute("role", "switch");
    button.setAttribute("aria-checked", rule.enabled ? "true" : "false");
    button.setAttribute("aria-label", "Enabled: " + eventLabel(rule.event) + " by " + (CHANNEL_NAMES[rule.channel] || rule.channel));
    button.appendChild(el("span", "switch-track"));
    button.appendChild(el("span", "switch-text", rule.enabled ? "On" : "Off"));
    button.addEventListener("click", function () { toggleRule(rule, button); });
    return button;
  }

  function ruleRow(rule) {
    var row = el("tr");
    row.dataset.ruleId = rule.id;
    if (!rule.enabled) row.className = "is-off";
    var event = el("td", "notify-event");
    event.appendChild(el("span", "mono", eventLabel(rule.event)));
    if (rule.name) event.appendChild(el("span", "small muted", rule.name));
    row.appendChild(event);
    row.appendChild(el("td", null, CHANNEL_NAMES[rule.channel] || rule.channel));
    row.appendChild(targetCell(rule));
    row.appendChild(el("td", "notify-outlet", rule.outlet_id ? outletNames[rule.outlet_id] || "Another outlet" : "Every outlet"));
    var enabled = el("td");
    enabled.appendChild(switchButton(rule));
    row.appendChild(enabled);
    var actions = el("td", "row-actions");
    var test = el("button", "btn btn-secondary btn-sm", "Test");
    test.type = "button";
    test.setAttribute("aria-label", "Test " + eventLabel(rule.event) + " by " + (CHANNEL_NAMES[rule.channel] || rule.channel));
    test.addEventListener("click", function () { testRule(rule, test); });
    var remove = el("button", "btn btn-link btn-sm notify-danger", "Delete");
    remove.type = "button";
    remove.setAttribute("aria-label", "Delete the rule " + eventLabel(rule.event) + " by " + (CHANNEL_NAMES[rule.channel] || rule.channel));
    remove.addEventListener("click", function () { deleteRule(rule, remove); });
    actions.appendChild(test);
    actions.appendChild(remove);
    row.appendChild(actions);
    return row;
  }

  /* A webhook rule names its endpoint; the URL (as the API displays it) goes underneath. */
  function targetCell(rule) {
    var cell = el("td", "notify-target");
    var endpoint = rule.webhook_endpoint_id ? endpoints.filter(function (e) { return e.id === rule.webhook_endpoint_id; })[0] : null;
    if (endpoint) cell.appendChild(el("strong", "notify-target-name", endpoint.name));
    cell.appendChild(urlText("mono small", rule.target_display || "—"));
    return cell;
  }

  function emptyRow(body, text) {
    var row = el("tr");
    var cell = el("td", "empty-row muted", text);
    cell.colSpan = rulesColspan();
    row.appendChild(cell);
    body.appendChild(row);
  }

  function loadRules() {
    return C.api("GET", "/api/v1/alerts/rules?limit=200").then(function (result) {
      var body = document.getElementById("rule-rows");
      if (!result.ok) {
        body.textContent = "";
        emptyRow(body, "—");
        C.showError("rules-error", result.data, forbiddenOr(result, "The alert rules could not be loaded."));
        return;
      }
      C.hideError("rules-error");
      body.textContent = "";
      var items = result.data.items || [];
      if (!items.length) {
        emptyRow(body, "No alert rules yet. Create one below.");
        return;
      }
      items.forEach(function (rule) { body.appendChild(ruleRow(rule)); });
    });
  }

  function forbiddenOr(result, fallback) {
    return result.status === 403 ? "Your role may not see this. Ask an owner or admin." : fallback;
  }

  function problemFor(result, fallback) {
    return result.status === 403 ? { detail: "your role may not do this", hint: "ask an owner or admin" } : result.data || { detail: fallback };
  }

  function toggleRule(rule, button) {
    var on = button.getAttribute("aria-checked") !== "true";
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    C.api("PATCH", "/api/v1/alerts/rules/" + encodeURIComponent(rule.id), { enabled: on }, { "If-Match": '"' + rule.version + '"' }).then(function (result) {
      button.removeAttribute("aria-busy");
      button.disabled = false;
      if (!result.ok) {
        var reason = result.status === 412 ? { detail: "someone else changed this rule", hint: "the list is reloaded; try again" } : problemFor(result);
        C.showError("rules-error", reason, "The rule could not be changed.");
        if (result.status === 412) loadRules();
        return;
      }
      window.Servio.toast(on ? "Rule switched on" : "Rule switched off");
      var fresh = ruleRow(result.data);
      button.closest("tr").replaceWith(fresh);
      fresh.querySelector("[role=switch]").focus();
    });
  }

  function deleteRule(rule, button) {
    confirmAction(
      "Delete this rule?",
      "“" + eventLabel(rule.event) + "” will no longer be sent by " + (CHANNEL_NAMES[rule.channel] || rule.channel) + " to " + (rule.target_display || "the console") + ".",
      "Delete rule",
      button
    ).then(function (yes) {
      if (!yes) return;
      button.disabled = true;
      C.api("DELETE", "/api/v1/alerts/rules/" + encodeURIComponent(rule.id), null, { "If-Match": '"' + rule.version + '"' }).then(function (result) {
        if (!result.ok) {
          button.disabled = false;
          C.showError("rules-error", problemFor(result), "The rule could not be deleted.");
          return;
        }
        window.Servio.toast("Alert rule deleted");
        loadRules().then(function () { document.getElementById("rule-event").focus(); });
      });
    });
  }

  /* ---- test send ---- */

  function resultBlock(data) {
    var box = el("div", "notify-result");
    var head = el("p", "notify-result-head");
    head.appendChild(el("span", "badge " + (data.ok ? "badge-success" : "badge-danger"), data.ok ? "Delivered" : "Failed"));
    var facts = [];
    if (data.status_code !== null && data.status_code !== undefined) facts.push("HTTP " + data.status_code);
    if (data.duration_ms !== null && data.duration_ms !== undefined) facts.push(data.duration_ms + " ms");
    head.appendChild(el("span", "small", facts.join(" · ")));
    box.appendChild(head);
    if (data.detail) box.appendChild(el("p", "small notify-detail", C.capitalise(data.detail)));
    if (data.webhook_id) {
      var id = el("p", "small muted");
      id.appendChild(document.createTextNode("webhook-id "));
      id.appendChild(el("code", null, data.webhook_id));
      box.appendChild(id);
    }
    box.appendChild(el("h3", "notify-sub", "Payload sent"));
    box.appendChild(el("pre", "notify-json", JSON.stringify(data.payload === undefined ? null : data.payload, null, 2)));
    return box;
  }

  function testRule(rule, button) {
    var dialog = document.getElementById("test-dialog");
    var holder = document.getElementById("test-result");
    document.getElementById("test-dialog-title").textContent = "Test: " + eventLabel(rule.event) + " → " + (CHANNEL_NAMES[rule.channel] || rule.channel);
    holder.textContent = "";
    holder.appendChild(el("p", "muted", "Sending a sample…"));
    dialog._opener = button;
    openDialog(dialog);
    C.api("POST", "/api/v1/alerts/rules/" + encodeURIComponent(rule.id) + "/test", {}).then(function (result) {
      holder.textContent = "";
      if (!result.ok) {
        var problem = el("div", "alert alert-danger");
        problem.appendChild(el("p", null, C.problemText(problemFor(result), "The test could not be sent.")));
        holder.appendChild(problem);
        return;
      }
      holder.appendChild(resultBlock(result.data));
    });
  }

  /* ---- create ---- */

  function onChannel(form) {
    var channel = form.elements.channel.value;
    var which = TARGET_FIELD[channel] || "console";
    Array.prototype.forEach.call(form.querySelectorAll("[data-target-for]"), function (field) {
      var on = field.getAttribute("data-target-for") === which;
      field.hidden = !on;
      Array.prototype.forEach.call(field.querySelectorAll("input, select"), function (input) {
        input.disabled = !on;
        if (on) input.setAttribute("data-field", "target");
        else input.removeAttribute("data-field");
      });
    });
  }

  function onEvent(form) {
    var option = form.elements.event.selectedOptions[0];
    document.getElementById("rule-event-help").textContent = option ? option.getAttribute("data-description") || "" : "";
  }

  function targetValue(form) {
    var which = TARGET_FIELD[form.elements.channel.value];
    if (which === "webhook") return form.elements.endpoint.value;
    if (which === "email") return form.elements.emails.value.trim();
    if (which === "phone") return form.elements.phone.value.trim();
    return "";
  }

  function submitRule(event) {
    event.preventDefault();
    var form = event.target;
    var alertBox = document.getElementById("rule-errors");
    var body = {
      event: form.elements.event.value,
      channel: form.elements.channel.value,
      target: targetValue(form),
      enabled: form.elements.enabled.checked,
      outlet_id: form.elements.outlet_id.value || null,
    };
    var name = form.elements.name.value.trim();
    if (name) body.name = name;
    if (body.channel === "webhook" && !body.target) {
      C.showProblem(form, alertBox, { status: 422, errors: [{ loc: ["target"], msg: "choose a webhook endpoint" }] });
      return;
    }
    C.busy(form);
    C.api("POST", "/api/v1/alerts/rules", body).then(function (result) {
      C.release(form);
      if (!result.ok) {
        C.showProblem(form, alertBox, problemFor(result));
        return;
      }
      C.clearProblems(form, alertBox);
      form.elements.name.value = "";
      window.Servio.toast("Alert rule created");
      loadRules();
    });
  }

  function fillEndpoints(select) {
    select.textContent = "";
    if (!endpoints.length) {
      select.appendChild(el("option", null, canIntegrations ? "No webhook endpoints yet" : "Not available to your role")).value = "";
      return;
    }
    endpoints.forEach(function (endpoint) {
      var option = el("option", null, endpoint.name + " · " + endpoint.url + (endpoint.enabled ? "" : " (disabled)"));
      option.value = endpoint.id;
      select.appendChild(option);
    });
  }

  function loadEndpoints() {
    var select = document.getElementById("rule-endpoint");
    if (!canIntegrations) {
      fillEndpoints(select);
      return Promise.resolve();
    }
    return C.api("GET", "/api/v1/webhooks/endpoints?limit=200").then(function (result) {
      endpoints = result.ok ? result.data.items || [] : [];
      fillEndpoints(select);
    });
  }

  /* The catalogue adds what the registry in the page lacks: descriptions kept in one place. */
  function loadCatalogue(form) {
    if (!canIntegrations) return;
    C.api("GET", "/api/v1/admin/integrations").then(function (result) {
      if (!result.ok) return;
      var known = {};
      (result.data.events || []).forEach(function (e) { known[e.event] = e.description; });
      Array.prototype.forEach.call(form.elements.event.options, function (option) {
        if (known[option.value]) option.setAttribute("data-description", known[option.value]);
      });
      onEvent(form);
    });
  }

  function init() {
    var app = document.getElementById("alerts-app");
    if (!app) return;
    canIntegrations = app.dataset.canIntegrations === "true";
    var form = document.getElementById("rule-form");
    Array.prototype.forEach.call(form.elements.outlet_id.options, function (option) {
      if (option.value) outletNames[option.value] = option.textContent;
    });
    form.addEventListener("submit", submitRule);
    form.elements.channel.addEventListener("change", function () { onChannel(form); });
    form.elements.event.addEventListener("change", function () { onEvent(form); });
    onChannel(form);
    onEvent(form);

    var testDialog = document.getElementById("test-dialog");
    Array.prototype.forEach.call(testDialog.querySelectorAll("[data-close]"), function (button) {
      button.addEventListener("click", function () { closeDialog(testDialog); });
    });
    testDialog.addEventListener("close", function () {
      if (testDialog._opener && document.body.contains(testDialog._opener)) testDialog._opener.focus();
    });

    loadCatalogue(form);
    loadEndpoints().then(loadRules);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
