/* Alerts: the tenant's alert rules (event → channel → target), a create form whose target
   field follows the channel, the enabled switch (PATCH with If-Match), "Test" with the
   delivery's result and the sample payload that was sent, and delete after a confirmation.
   Everything goes through the JSON API (common.js); text from the server only goes in as
   text, and targets are only ever shown as the API masks them. */
(function () {
  "use strict";

  var C = window.ServioConsole;
  var N = window.ServioNotify;
  var el = C.el;
  var TARGET_FIELD = { webhook: "webhook", email: "email", whatsapp: "phone", sms: "phone", console: "console" };

  var RULE_COLUMNS = 6;

  var canIntegrations = false;
  var outletNames = {};
  var endpoints = [];

  /* ---- rules ---- */

  function eventLabel(event) {
    return event === "*" ? "Every event" : event;
  }

  function ruleLabel(rule) {
    return eventLabel(rule.event) + " by " + N.channelName(rule.channel);
  }

  function switchButton(rule) {
    var button = C.switchButton(rule.enabled, "Enabled: " + ruleLabel(rule), function () { toggleRule(rule, button); });
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
    row.appendChild(el("td", null, N.channelName(rule.channel)));
    row.appendChild(targetCell(rule));
    row.appendChild(el("td", "notify-outlet", rule.outlet_id ? outletNames[rule.outlet_id] || "Another outlet" : "Every outlet"));
    var enabled = el("td");
    enabled.appendChild(switchButton(rule));
    row.appendChild(enabled);
    var actions = el("td", "row-actions");
    var test = C.button("Test", "Test " + ruleLabel(rule));
    test.addEventListener("click", function () { testRule(rule, test); });
    var remove = C.button("Delete", "Delete the rule " + ruleLabel(rule), "btn-link notify-danger");
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
    cell.appendChild(C.urlText("mono small", rule.target_display || "—"));
    return cell;
  }

  function loadRules() {
    return C.api("GET", "/api/v1/alerts/rules?limit=200").then(function (result) {
      var body = document.getElementById("rule-rows");
      if (!result.ok) {
        body.textContent = "";
        C.emptyRow(body, RULE_COLUMNS, "—");
        C.showError("rules-error", result.data, forbiddenOr(result, "The alert rules could not be loaded."));
        return;
      }
      C.hideError("rules-error");
      body.textContent = "";
      var items = result.data.items || [];
      if (!items.length) {
        C.emptyRow(body, RULE_COLUMNS, "No alert rules yet. Create one below.");
        return;
      }
      items.forEach(function (rule) { body.appendChild(ruleRow(rule)); });
    });
  }

  function forbiddenOr(result, fallback) {
    return result.status === 403 ? "Your role may not see this. Ask an owner or admin." : fallback;
  }

  function toggleRule(rule, button) {
    N.toggleEnabled({
      url: "/api/v1/alerts/rules/" + encodeURIComponent(rule.id),
      version: rule.version,
      button: button,
      noun: "rule",
      errorId: "rules-error",
      reload: loadRules,
      toast: function (on) { return on ? "Rule switched on" : "Rule switched off"; },
      row: ruleRow,
    });
  }

  function deleteRule(rule, button) {
    C.confirmAction(
      "Delete this rule?",
      "“" + eventLabel(rule.event) + "” will no longer be sent by " + N.channelName(rule.channel) + " to " + (rule.target_display || "the console") + ".",
      "Delete rule",
      button
    ).then(function (yes) {
      if (!yes) return;
      button.disabled = true;
      C.api("DELETE", "/api/v1/alerts/rules/" + encodeURIComponent(rule.id), null, { "If-Match": '"' + rule.version + '"' }).then(function (result) {
        if (!result.ok) {
          button.disabled = false;
          C.showError("rules-error", N.forbidden(result), "The rule could not be deleted.");
          return;
        }
        window.Servio.toast("Alert rule deleted");
        loadRules().then(function () { document.getElementById("rule-event").focus(); });
      });
    });
  }

  /* ---- test send ---- */

  function testRule(rule, button) {
    var dialog = document.getElementById("test-dialog");
    var holder = document.getElementById("test-result");
    document.getElementById("test-dialog-title").textContent = "Test: " + eventLabel(rule.event) + " → " + N.channelName(rule.channel);
    holder.textContent = "";
    holder.appendChild(el("p", "muted", "Sending a sample…"));
    C.openDialog(dialog, button);
    C.api("POST", "/api/v1/alerts/rules/" + encodeURIComponent(rule.id) + "/test", {}).then(function (result) {
      holder.textContent = "";
      if (!result.ok) {
        var problem = el("div", "alert alert-danger");
        problem.appendChild(el("p", null, C.problemText(N.forbidden(result), "The test could not be sent.")));
        holder.appendChild(problem);
        return;
      }
      var data = result.data;
      holder.appendChild(N.deliveryResult(data, data.webhook_id ? N.codeNote("small muted", "webhook-id ", data.webhook_id) : null));
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
        C.showProblem(form, alertBox, N.forbidden(result));
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
    C.closeButtons(testDialog);
    testDialog.addEventListener("close", function () { C.refocus(testDialog); });

    loadCatalogue(form);
    loadEndpoints().then(loadRules);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
