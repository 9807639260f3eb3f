/* Coupons & happy hours: the outlet's coupons with their usage (create, switch off), its
   happy hours with an "in force now" badge, and the FLAG_HAPPY_HOUR switch. Everything goes
   through the JSON API (common.js); the server validates and counts, this page only shows.
   Text from the server only ever goes in as text. */
(function () {
  "use strict";

  var C = window.ServioConsole;
  var el = C.el;
  var FLAG = "FLAG_HAPPY_HOUR";
  var DAY_NAMES = { mon: "Mon", tue: "Tue", wed: "Wed", thu: "Thu", fri: "Fri", sat: "Sat", sun: "Sun" };
  var WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

  var app, currency, timeZone;
  var canWrite = false;
  var canFlag = false;
  var canMenu = false;
  var categories = {};
  var flagOn = false;

  /* ---- text ---- */

  var showError = C.showError;
  var hideError = C.hideError;

  function money(minor) {
    return C.formatMoney(minor, currency);
  }

  function date(iso) {
    var when = new Date(iso);
    if (isNaN(when)) return iso;
    try {
      return new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: timeZone }).format(when);
    } catch (error) {
      return when.toLocaleDateString();
    }
  }

  function times(n) {
    return n + (n === 1 ? " time" : " times");
  }

  function badge(kind, text) {
    return el("span", "badge badge-" + kind, text);
  }

  /* ---- coupons ---- */

  function discountText(c) {
    var text = c.kind === "percent" ? c.percent + "% off" : money(c.amount) + " off";
    if (c.max_discount !== null && c.max_discount !== undefined) text += " · at most " + money(c.max_discount);
    if (c.min_subtotal) text += " · bills from " + money(c.min_subtotal);
    if (c.stackable) text += " · combines";
    return text;
  }

  function limitsText(c) {
    var parts = [];
    if (c.cap_per_guest) parts.push(c.cap_per_guest + " per guest");
    if (c.cap_per_day) parts.push(c.cap_per_day + " per day");
    if (c.cap_per_outlet) parts.push(c.cap_per_outlet + " in total");
    return parts.length ? parts.join(" · ") : "No limits";
  }

  function validText(c) {
    if (!c.valid_from && !c.valid_to) return "Any time";
    if (!c.valid_to) return "From " + date(c.valid_from);
    if (!c.valid_from) return "Until " + date(c.valid_to);
    return date(c.valid_from) + " – " + date(c.valid_to);
  }

  function statusBadge(c) {
    if (!c.is_active) return badge("plain", "Switched off");
    var now = Date.now();
    if (c.valid_to && new Date(c.valid_to).getTime() <= now) return badge("warning", "Expired");
    if (c.valid_from && new Date(c.valid_from).getTime() > now) return badge("info", "Not yet valid");
    return badge("success", "Active");
  }

  function couponRow(c) {
    var row = el("tr");
    row.dataset.couponId = c.id;
    if (!c.is_active) row.className = "is-off";
    var code = el("td", "code mono", c.code);
    if (c.name) code.appendChild(el("span", "small muted", c.name));
    if (!c.outlet_id) code.appendChild(el("span", "small muted", "Every outlet"));
    row.appendChild(code);
    row.appendChild(el("td", null, discountText(c)));
    row.appendChild(el("td", null, limitsText(c)));
    row.appendChild(el("td", null, validText(c)));
    var usage = c.usage || { total: 0, today: 0 };
    row.appendChild(el("td", "nums", usage.total + " · " + usage.today + " today"));
    var status = el("td");
    status.appendChild(statusBadge(c));
    row.appendChild(status);
    if (canWrite) {
      var actions = el("td", "row-actions");
      if (c.is_active) {
        var off = el("button", "btn btn-secondary btn-sm", "Switch off");
        off.type = "button";
        off.setAttribute("aria-label", "Switch off " + c.code);
        off.addEventListener("click", function () { switchOff(c, off); });
        actions.appendChild(off);
      }
      row.appendChild(actions);
    }
    return row;
  }

  function loadCoupons() {
    return C.api("GET", "/api/v1/coupons?limit=100").then(function (result) {
      var body = document.getElementById("coupon-rows");
      if (!result.ok) {
        showError("coupons-error", result.data, "The coupons could not be loaded.");
        return;
      }
      hideError("coupons-error");
      body.textContent = "";
      var items = result.data.items || [];
      if (!items.length) {
        var empty = el("tr");
        var cell = el("td", "empty-row muted", "No coupons yet." + (canWrite ? " Create one below." : ""));
        cell.colSpan = canWrite ? 7 : 6;
        empty.appendChild(cell);
        body.appendChild(empty);
        return;
      }
      items.forEach(function (c) { body.appendChild(couponRow(c)); });
    });
  }

  function switchOff(c, button) {
    button.disabled = true;
    C.api("DELETE", "/api/v1/coupons/" + encodeURIComponent(c.id), null, { "If-Match": '"' + c.version + '"' }).then(function (result) {
      if (!result.ok) {
        button.disabled = false;
        showError("coupons-error", result.data, "The coupon could not be switched off.");
        return;
      }
      window.Servio.toast("Coupon " + c.code + " switched off");
      loadCoupons();
    });
  }

  function localDay(value, nextDay) {
    /* "2026-12-01" → the start of that day (or of the next one) in this browser, as UTC. */
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || "");
    if (!parts) return null;
    return new Date(+parts[1], +parts[2] - 1, +parts[3] + (nextDay ? 1 : 0)).toISOString();
  }

  function amountField(form, name, errors) {
    var input = form.elements[name];
    var text = input.value.trim();
    if (!text) return null;
    var minor = C.toMinor(text, currency);
    if (minor === null) errors.push({ loc: [input.dataset.field || name], msg: "enter an amount like 100 or 99.50" });
    return minor;
  }

  function intField(form, name) {
    var text = form.elements[name].value.trim();
    return text ? Number(text) : null;
  }

  function couponBody(form, errors) {
    var kind = form.elements.kind.value;
    var body = {
      code: form.elements.code.value.trim(),
      name: form.elements.name.value.trim(),
      kind: kind,
      stackable: form.elements.stackable.checked,
    };
    var value = form.elements.value.value.trim();
    if (kind === "percent") {
      body.percent = value;
    } else {
      body.amount = value ? C.toMinor(value, currency) : null;
      if (value && body.amount === null) errors.push({ loc: ["amount"], msg: "enter an amount like 50 or 49.50" });
    }
    var max = amountField(form, "max_discount", errors);
    if (max !== null) body.max_discount = max;
    var min = amountField(form, "min_subtotal", errors);
    if (min !== null) body.min_subtotal = min;
    ["cap_per_outlet", "cap_per_day", "cap_per_guest"].forEach(function (name) {
      var n = intField(form, name);
      if (n !== null) body[name] = n;
    });
    var from = localDay(form.elements.valid_from.value, false);
    var to = localDay(form.elements.valid_to.value, true);
    if (from) body.valid_from = from;
    if (to) body.valid_to = to;
    return body;
  }

  function onKind(form) {
    var flat = form.elements.kind.value === "flat";
    var input = form.elements.value;
    document.getElementById("coupon-value-label").textContent = flat ? "Amount off" : "Percent off";
    input.dataset.field = flat ? "amount" : "percent";
    input.placeholder = flat ? "50" : "10";
  }

  function submitCoupon(event) {
    event.preventDefault();
    var form = event.target;
    var alertBox = document.getElementById("coupon-errors");
    var errors = [];
    var body = couponBody(form, errors);
    if (errors.length) {
      C.showProblem(form, alertBox, { status: 422, errors: errors });
      return;
    }
    C.busy(form);
    C.api("POST", "/api/v1/coupons", body).then(function (result) {
      C.release(form);
      if (!result.ok) {
        C.showProblem(form, alertBox, result.data);
        return;
      }
      C.clearProblems(form, alertBox);
      form.reset();
      onKind(form);
      window.Servio.toast("Coupon " + result.data.code + " created");
      loadCoupons();
    });
  }

  /* ---- happy hours ---- */

  function daysText(days) {
    if (!days || !days.length || days.length === 7) return "Every day";
    return days.map(function (d) { return DAY_NAMES[d] || d; }).join(", ");
  }

  function targetText(rule) {
    var names = (rule.category_ids || []).map(function (id) { return categories[id] || "a removed category"; });
    if ((rule.item_ids || []).length) names.push(rule.item_ids.length + (rule.item_ids.length === 1 ? " item" : " items"));
    return names.length ? names.join(", ") : "Whole menu";
  }

  function happyRow(rule) {
    var row = el("tr");
    row.dataset.ruleId = rule.id;
    row.appendChild(el("td", "code", rule.name));
    row.appendChild(el("td", null, daysText(rule.days)));
    var window_ = (rule.start_time || "00:00") + "–" + (rule.end_time || "24:00");
    row.appendChild(el("td", "nums", window_));
    row.appendChild(el("td", "nums", rule.adjustment === "percent" ? rule.percent + "% off" : money(rule.amount) + " off each"));
    row.appendChild(el("td", null, targetText(rule)));
    var now = el("td");
    if (rule.in_force && flagOn) now.appendChild(badge("success", "In force now"));
    else if (rule.in_force) now.appendChild(badge("warning", "Window open · switched off"));
    else now.appendChild(badge("plain", "Not now"));
    row.appendChild(now);
    if (canWrite) {
      var actions = el("td", "row-actions");
      var remove = el("button", "btn btn-secondary btn-sm", "Delete");
      remove.type = "button";
      remove.setAttribute("aria-label", "Delete " + rule.name);
      remove.addEventListener("click", function () { deleteRule(rule, remove); });
      actions.appendChild(remove);
      row.appendChild(actions);
    }
    return row;
  }

  function setFlagSwitch(on) {
    var button = document.getElementById("happy-flag");
    button.setAttribute("aria-checked", on ? "true" : "false");
    button.removeAttribute("aria-busy");
    button.querySelector(".switch-text").textContent = on ? "On" : "Off";
    button.disabled = !canFlag;
    var state = document.getElementById("happy-flag-state");
    state.className = "badge " + (on ? "badge-success" : "badge-plain");
    state.textContent = on ? "Happy hours on" : "Happy hours off";
  }

  function loadHappyHours() {
    return C.api("GET", "/api/v1/pricing/happy_hours/now").then(function (result) {
      var body = document.getElementById("happy-rows");
      if (!result.ok) {
        showError("happy-error", result.data, "The happy hours could not be loaded.");
        return;
      }
      hideError("happy-error");
      var data = result.data;
      flagOn = !!data.flag_enabled;
      setFlagSwitch(flagOn);
      var dayName = DAY_NAMES[data.day] || data.day;
      var open = (data.in_force || []).map(function (r) { return r.name; });
      var text = "At the outlet it is " + dayName + " " + data.local_time + ". ";
      if (!open.length) text += "No happy hour is on right now.";
      else if (flagOn) text += open.join(", ") + (open.length === 1 ? " is" : " are") + " in force now.";
      else text += open.join(", ") + (open.length === 1 ? " would be" : " would be") + " on, but happy hours are switched off.";
      document.getElementById("happy-now").textContent = text;
      body.textContent = "";
      var rules = data.happy_hours || [];
      if (!rules.length) {
        var empty = el("tr");
        var cell = el("td", "empty-row muted", "No happy hours yet." + (canWrite ? " Create one below." : ""));
        cell.colSpan = canWrite ? 7 : 6;
        empty.appendChild(cell);
        body.appendChild(empty);
        return;
      }
      rules.forEach(function (rule) { body.appendChild(happyRow(rule)); });
    });
  }

  function toggleFlag() {
    var button = document.getElementById("happy-flag");
    var on = button.getAttribute("aria-checked") !== "true";
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    C.api("PUT", "/api/v1/flags/" + FLAG, { enabled: on, scope: "outlet" }).then(function (result) {
      if (!result.ok) {
        setFlagSwitch(flagOn);
        showError("happy-error", result.data, "The switch could not be changed.");
        return;
      }
      window.Servio.toast(on ? "Happy hours on" : "Happy hours off");
      loadHappyHours().then(function () { button.focus(); });
    });
  }

  function deleteRule(rule, button) {
    button.disabled = true;
    C.api("DELETE", "/api/v1/pricing/rules/" + encodeURIComponent(rule.id), null, { "If-Match": '"' + rule.version + '"' }).then(function (result) {
      if (!result.ok) {
        button.disabled = false;
        showError("happy-error", result.data, "The happy hour could not be deleted.");
        return;
      }
      window.Servio.toast("Happy hour " + rule.name + " deleted");
      loadHappyHours();
    });
  }

  function checked(form, name) {
    return Array.prototype.filter.call(form.querySelectorAll('input[name="' + name + '"]'), function (input) {
      return input.checked;
    }).map(function (input) { return input.value; });
  }

  function submitHappyHour(event) {
    event.preventDefault();
    var form = event.target;
    var alertBox = document.getElementById("happy-errors");
    var body = {
      name: form.elements.name.value.trim(),
      kind: "happy_hour",
      adjustment: "percent",
      percent: form.elements.percent.value.trim(),
      start_time: form.elements.start_time.value || null,
      end_time: form.elements.end_time.value || null,
      days: checked(form, "days").filter(function (d) { return WEEK.indexOf(d) !== -1; }),
      category_ids: checked(form, "category_ids"),
    };
    C.busy(form);
    C.api("POST", "/api/v1/pricing/rules", body).then(function (result) {
      C.release(form);
      if (!result.ok) {
        C.showProblem(form, alertBox, result.data);
        return;
      }
      C.clearProblems(form, alertBox);
      form.reset();
      window.Servio.toast("Happy hour " + result.data.name + " created");
      loadHappyHours();
    });
  }

  function loadCategories() {
    if (!canMenu) return Promise.resolve();
    return C.api("GET", "/api/v1/menu/categories").then(function (result) {
      if (!result.ok) return;
      (result.data.items || []).forEach(function (c) { categories[c.id] = c.name; });
      var box = document.getElementById("happy-categories");
      if (!box) return;
      box.textContent = "";
      (result.data.items || []).forEach(function (c) {
        var label = el("label", "check");
        var input = el("input");
        input.type = "checkbox";
        input.name = "category_ids";
        input.value = c.id;
        input.id = "happy-category-" + c.id;
        label.appendChild(input);
        label.appendChild(el("span", null, c.name));
        box.appendChild(label);
      });
      if (!result.data.items || !result.data.items.length) box.appendChild(el("span", "muted small", "The menu has no categories yet."));
    });
  }

  function init() {
    app = document.getElementById("pricing-app");
    if (!app) return;
    currency = app.dataset.currency || "INR";
    timeZone = app.dataset.timezone || undefined;
    canWrite = app.dataset.canWrite === "true";
    canFlag = app.dataset.canFlag === "true";
    canMenu = app.dataset.canMenu === "true";

    var couponForm = document.getElementById("coupon-form");
    if (couponForm) {
      couponForm.addEventListener("submit", submitCoupon);
      couponForm.elements.kind.addEventListener("change", function () { onKind(couponForm); });
      couponForm.elements.code.addEventListener("input", function () {
        var input = couponForm.elements.code;
        var at = input.selectionStart;
        input.value = input.value.toUpperCase();
        input.setSelectionRange(at, at);
      });
    }
    var happyForm = document.getElementById("happy-form");
    if (happyForm) happyForm.addEventListener("submit", submitHappyHour);
    document.getElementById("happy-flag").addEventListener("click", toggleFlag);

    loadCoupons();
    loadCategories().then(loadHappyHours);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
