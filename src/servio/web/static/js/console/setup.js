/* The setup wizard: each step's form goes to POST /api/v1/onboarding/{id}/{step}; on success
   the browser moves to the next step's page, which the server renders with the saved answers
   (so a reload or a later visit resumes where the owner stopped). */
(function () {
  "use strict";

  var C = window.ServioConsole;
  var ONBOARDING = "/api/v1/onboarding";

  function value(form, name) {
    var el = form.elements.namedItem(name);
    return el ? String(el.value).trim() : "";
  }

  function checkedValues(form, name) {
    return Array.prototype.map.call(form.querySelectorAll('input[name="' + name + '"]:checked'), function (el) {
      return el.value;
    });
  }

  /* ---- start ---- */

  function wireStart(form) {
    var alertBox = document.getElementById("form-errors");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      C.busy(form);
      C.api("POST", ONBOARDING + "/start", {}).then(function (result) {
        if (!result.ok) {
          C.release(form);
          C.showProblem(form, alertBox, result.data);
          return;
        }
        var id = result.data.onboarding_id || result.data.id;
        window.location.assign("/console/setup/" + encodeURIComponent(id));
      });
    });
  }

  /* ---- step payloads ---- */

  function uploadLogo(form) {
    var input = form.querySelector("#f-logo");
    if (!input || !input.files || !input.files.length) return Promise.resolve(null);
    var body = new FormData();
    body.append("file", input.files[0]);
    body.append("purpose", "logo");
    return C.api("POST", "/api/v1/media", body).then(function (result) {
      if (!result.ok) {
        var problem = Object.assign({}, result.data || {});
        problem.errors = [{ loc: ["logo_media_id"], msg: (problem.detail || "The logo could not be uploaded") }];
        return Promise.reject(problem);
      }
      form.elements.namedItem("logo_media_id").value = result.data.id;
      input.value = "";
      return result.data.id;
    });
  }

  function profilePayload(form) {
    return uploadLogo(form).then(function () {
      var payload = {
        name: value(form, "name"),
        address: value(form, "address"),
        timezone: value(form, "timezone"),
        language: value(form, "language"),
      };
      var logo = value(form, "logo_media_id");
      if (logo) payload.logo_media_id = logo;
      return payload;
    });
  }

  function taxPayload(form) {
    var mode = (form.querySelector('input[name="gst_mode"]:checked') || {}).value || "regular";
    var payload = {
      gst_mode: mode,
      state_code: value(form, "state_code"),
      gst_rounding: value(form, "gst_rounding"),
      rounding_mode: value(form, "rounding_mode"),
      rounding: value(form, "rounding"),
      prices_include_tax: form.querySelector("#f-prices-include-tax").checked,
    };
    var gstin = value(form, "gstin").toUpperCase();
    if (mode !== "unregistered") payload.gstin = gstin || null;
    var fssai = value(form, "fssai_license");
    if (fssai) payload.fssai_license = fssai;
    return Promise.resolve(payload);
  }

  function hoursPayload(form) {
    var hours = {};
    var rows = form.querySelectorAll("tr[data-day]");
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      if (!row.querySelector("[data-day-open]").checked) continue;
      if (row.querySelector("[data-day-allday]").checked) {
        hours[row.dataset.day] = [["00:00", "24:00"]];
      } else {
        hours[row.dataset.day] = [[row.querySelector("[data-day-from]").value, row.querySelector("[data-day-to]").value]];
      }
    }
    var holidays = Array.prototype.map.call(form.querySelectorAll("[data-holiday]"), function (li) {
      return li.dataset.holiday;
    });
    return Promise.resolve({ business_hours: hours, holidays: holidays });
  }

  function tablesPayload(form) {
    return Promise.resolve({ count: parseInt(value(form, "count"), 10) || 0, label_fmt: value(form, "label_fmt") });
  }

  function paymentsPayload(form) {
    var payload = { payment_modes: checkedValues(form, "payment_modes") };
    var vpa = value(form, "upi_vpa");
    if (vpa) payload.upi_vpa = vpa;
    return Promise.resolve(payload);
  }

  /* Invoice numbering is saved with the payments step (its own call; both are idempotent). */
  function saveInvoicing(form, id) {
    if (!form.querySelector("[data-invoicing]")) return Promise.resolve();
    var payload = { prefix: value(form, "prefix").toUpperCase(), reset: value(form, "reset") };
    return C.api("POST", ONBOARDING + "/" + encodeURIComponent(id) + "/invoicing", payload).then(function (result) {
      if (!result.ok) return Promise.reject(result.data);
    });
  }

  var PAYLOADS = {
    profile: profilePayload,
    tax: taxPayload,
    hours: hoursPayload,
    tables: tablesPayload,
    payments: paymentsPayload,
    finish: function () {
      return Promise.resolve({});
    },
  };

  /* ---- step enhancements ---- */

  function wireLogoPreview(form) {
    var input = form.querySelector("[data-upload-preview]");
    if (!input) return;
    var preview = document.getElementById(input.dataset.uploadPreview);
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) {
        preview.hidden = true;
        return;
      }
      var reader = new FileReader();
      reader.onload = function () {
        preview.src = reader.result; // a data: URL (the CSP allows data: images, not blob:)
        preview.hidden = false;
      };
      reader.readAsDataURL(file);
    });
  }

  function wireTax(form) {
    var gstinField = form.querySelector("[data-gstin-field]");
    if (!gstinField) return;
    var gstin = form.querySelector("#f-gstin");
    var state = form.querySelector("#f-state");
    function sync() {
      var mode = (form.querySelector('input[name="gst_mode"]:checked') || {}).value;
      gstinField.classList.toggle("is-muted", mode === "unregistered");
      gstin.required = mode !== "unregistered";
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "gst_mode") sync();
    });
    gstin.addEventListener("input", function () {
      var upper = gstin.value.toUpperCase().replace(/\s/g, "");
      if (upper !== gstin.value) gstin.value = upper;
      // The first two characters of a GSTIN are the state code: keep the select in step.
      var code = upper.slice(0, 2);
      if (/^\d\d$/.test(code) && state.querySelector('option[value="' + code + '"]')) state.value = code;
    });
    sync();
  }

  function wireHours(form) {
    var rows = form.querySelectorAll("tr[data-day]");
    if (!rows.length) return;
    function syncRow(row) {
      var open = row.querySelector("[data-day-open]").checked;
      var allDay = row.querySelector("[data-day-allday]");
      allDay.disabled = !open;
      var timesOff = !open || allDay.checked;
      row.querySelector("[data-day-from]").disabled = timesOff;
      row.querySelector("[data-day-to]").disabled = timesOff;
      row.classList.toggle("is-closed", !open);
    }
    Array.prototype.forEach.call(rows, function (row) {
      row.addEventListener("change", function () {
        syncRow(row);
      });
      syncRow(row);
    });

    var list = document.getElementById("holiday-list");
    var input = document.getElementById("holiday-date");
    function addHoliday() {
      var day = input.value;
      if (!day || list.querySelector('[data-holiday="' + day + '"]')) return;
      var li = document.createElement("li");
      li.className = "chip";
      li.dataset.holiday = day;
      var text = document.createElement("span");
      text.textContent = day;
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      remove.setAttribute("data-remove-holiday", "");
      remove.setAttribute("aria-label", "Remove holiday " + day);
      remove.textContent = "×";
      li.appendChild(text);
      li.appendChild(remove);
      list.appendChild(li);
      input.value = "";
      input.focus();
    }
    document.getElementById("holiday-add").addEventListener("click", addHoliday);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        addHoliday();
      }
    });
    list.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-holiday]");
      if (button) {
        button.closest("li").remove();
        input.focus();
      }
    });
  }

  function wireTables(form) {
    var count = form.querySelector("#f-count");
    if (!count) return;
    var fmt = form.querySelector("#f-label-fmt");
    var preview = document.getElementById("label-preview");
    function render() {
      var n = Math.max(0, Math.min(parseInt(count.value, 10) || 0, 500));
      var pattern = fmt.value || "{n}";
      var labels = [];
      var shown = Math.min(n, 6);
      for (var i = 1; i <= shown; i++) labels.push(pattern.split("{n}").join(String(i)));
      if (n > shown) labels.push("…", pattern.split("{n}").join(String(n)));
      preview.textContent = "";
      labels.forEach(function (label) {
        var li = document.createElement("li");
        li.className = label === "…" ? "chip chip-gap" : "chip";
        li.textContent = label;
        preview.appendChild(li);
      });
    }
    count.addEventListener("input", render);
    fmt.addEventListener("input", render);
    render();
  }

  function wirePayments(form) {
    var upi = form.querySelector("#mode-upi");
    if (!upi) return;
    var field = document.getElementById("vpa-field");
    function sync() {
      field.classList.toggle("is-muted", !upi.checked);
      form.querySelector("#f-vpa").required = upi.checked;
    }
    upi.addEventListener("change", sync);
    sync();
    var prefix = form.querySelector("#f-prefix");
    var example = document.getElementById("prefix-example");
    if (prefix && example) {
      prefix.addEventListener("input", function () {
        example.textContent = prefix.value.toUpperCase() + "1";
      });
    }
  }

  /* ---- submit ---- */

  function wireWizard(form) {
    var alertBox = document.getElementById("form-errors");
    var step = form.dataset.step;
    var id = form.dataset.onboardingId;
    wireLogoPreview(form);
    wireTax(form);
    wireHours(form);
    wireTables(form);
    wirePayments(form);

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.getAttribute("aria-busy") === "true") return;
      C.clearProblems(form, alertBox);
      C.busy(form);
      PAYLOADS[step](form)
        .then(function (payload) {
          return C.api("POST", ONBOARDING + "/" + encodeURIComponent(id) + "/" + step, payload);
        })
        .then(function (result) {
          if (!result.ok) return Promise.reject(result.data);
          return step === "payments" ? saveInvoicing(form, id) : null;
        })
        .then(function () {
          var target = step === "finish" ? "/console/setup/" + encodeURIComponent(id) + "?step=finish" : form.dataset.nextUrl;
          window.location.assign(target);
        })
        .catch(function (problem) {
          C.release(form);
          C.showProblem(form, alertBox, problem);
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var start = document.querySelector("[data-start-onboarding]");
    if (start) wireStart(start);
    var wizard = document.getElementById("wizard-form");
    if (wizard) wireWizard(wizard);
    var done = document.getElementById("setup-success");
    if (done) done.focus();
  });
})();
