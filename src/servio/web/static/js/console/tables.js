/* Tables and QR codes: state changes (PATCH with If-Match), QR rotation with the new code
   shown at once, bulk add, and the QR pack label preview. */
(function () {
  "use strict";

  var C = window.ServioConsole;
  var TABLES = "/api/v1/tables";
  var STATE_BADGE = { open: "badge-success", locked: "badge-info", cleaning: "badge-warning", disabled: "badge-danger" };
  var STATE_LABEL = { open: "Open", locked: "Locked", cleaning: "Cleaning", disabled: "Disabled" };
  var ACTION_LABEL = { open: "Reopen", locked: "Lock", cleaning: "Cleaning", disabled: "Disable" };
  var CONFIRM_MS = 5000;

  var app;
  var transitions = {};
  var canState = false;
  var canQr = false;
  var tables = [];

  var el = C.el;

  function notice(message) {
    C.notice("tables-notice", message);
  }

  function qrSrc(table) {
    return TABLES + "/" + encodeURIComponent(table.id) + "/qr.svg?scale=4&v=" + table.qr_version;
  }

  function card(table) {
    var li = el("li", "table-card card");
    li.dataset.tableId = table.id;
    li.dataset.state = table.state;

    var head = el("div", "table-card-head");
    var title = el("h3", "table-label", table.label);
    title.id = "table-" + table.id + "-label";
    head.appendChild(title);
    head.appendChild(el("span", "badge " + (STATE_BADGE[table.state] || ""), STATE_LABEL[table.state] || table.state));
    li.appendChild(head);
    li.appendChild(el("p", "small muted", table.seats + " seats" + (table.area ? " · " + table.area : "")));

    var qr = el("figure", "qr");
    var img = document.createElement("img");
    img.src = qrSrc(table);
    img.alt = "QR code for " + table.label;
    img.width = 112;
    img.height = 112;
    img.loading = "lazy";
    qr.appendChild(img);
    var caption = el("figcaption", "small mono qr-caption");
    var link = el("a", "", "Open guest link");
    link.href = table.qr_url;
    link.target = "_blank";
    link.rel = "noopener";
    link.setAttribute("aria-label", "Open the guest link of " + table.label);
    caption.appendChild(link);
    caption.appendChild(document.createTextNode(" · v" + table.qr_version));
    qr.appendChild(caption);
    li.appendChild(qr);

    var actions = el("div", "table-actions");
    if (canState) {
      var order = ["open", "locked", "cleaning", "disabled"];
      (transitions[table.state] || []).slice().sort(function (a, b) {
        return order.indexOf(a) - order.indexOf(b);
      }).forEach(function (target) {
        var button = el("button", "btn btn-secondary btn-sm", ACTION_LABEL[target] || target);
        button.type = "button";
        button.dataset.setState = target;
        button.setAttribute("aria-label", (ACTION_LABEL[target] || target) + " " + table.label);
        actions.appendChild(button);
      });
    }
    if (canQr) {
      var rotate = el("button", "btn btn-link btn-sm", "Rotate QR");
      rotate.type = "button";
      rotate.dataset.rotate = "";
      rotate.setAttribute("aria-label", "Rotate the QR code of " + table.label);
      actions.appendChild(rotate);
    }
    li.appendChild(actions);
    return li;
  }

  function render() {
    var grid = document.getElementById("table-grid");
    grid.textContent = "";
    if (!tables.length) {
      grid.appendChild(el("li", "muted", "No tables yet. Add them here or in the setup wizard."));
    }
    tables.forEach(function (table) {
      grid.appendChild(card(table));
    });
    var counts = {};
    tables.forEach(function (t) {
      counts[t.state] = (counts[t.state] || 0) + 1;
    });
    document.getElementById("table-count").textContent = tables.length
      ? tables.length + " tables · " + Object.keys(counts).map(function (s) { return counts[s] + " " + (STATE_LABEL[s] || s).toLowerCase(); }).join(", ")
      : "";
  }

  function load() {
    return C.api("GET", TABLES).then(function (result) {
      if (!result.ok) {
        notice((result.data && result.data.detail) || "The tables could not be loaded.");
        return;
      }
      tables = result.data.items || [];
      render();
      suggestNextNumber();
    });
  }

  function replace(updated) {
    tables = tables.map(function (t) {
      return t.id === updated.id ? updated : t;
    });
  }

  function focusCard(id, selector) {
    var target = document.querySelector('[data-table-id="' + id + '"] ' + (selector || "h3"));
    if (target) {
      if (target.tagName === "H3") target.tabIndex = -1;
      target.focus();
    }
  }

  function setState(table, target) {
    C.api("PATCH", TABLES + "/" + encodeURIComponent(table.id), { state: target }, { "If-Match": '"' + table.version + '"' }).then(function (result) {
      if (result.status === 412) {
        notice(table.label + " was changed by someone else; the list is up to date now. Try again.");
        load();
        return;
      }
      if (!result.ok) {
        var d = result.data || {};
        notice([d.detail, d.hint].filter(Boolean).join(". ") || "The state could not be changed.");
        return;
      }
      replace(result.data);
      render();
      focusCard(table.id);
      window.Servio.toast(table.label + " is now " + (STATE_LABEL[target] || target).toLowerCase());
    });
  }

  function rotate(table, button) {
    if (button.dataset.confirming !== "true") {
      // A second tap within a few seconds confirms: rotating breaks every printed copy.
      button.dataset.confirming = "true";
      button.textContent = "Tap again to rotate";
      button.classList.add("is-confirming");
      window.setTimeout(function () {
        if (!button.isConnected) return;
        button.dataset.confirming = "false";
        button.textContent = "Rotate QR";
        button.classList.remove("is-confirming");
      }, CONFIRM_MS);
      return;
    }
    button.disabled = true;
    C.api("POST", TABLES + "/" + encodeURIComponent(table.id) + "/qr/rotate").then(function (result) {
      if (!result.ok) {
        button.disabled = false;
        notice((result.data && result.data.detail) || "The QR code could not be rotated.");
        return;
      }
      replace(Object.assign({}, table, {
        qr_version: result.data.qr_version,
        qr_token: result.data.qr_token,
        qr_url: result.data.qr_url,
      }));
      render();
      var fresh = document.querySelector('[data-table-id="' + table.id + '"]');
      if (fresh) fresh.classList.add("is-rotated");
      focusCard(table.id);
      window.Servio.toast("New QR code for " + table.label + ". Reprint it: the old one no longer works.");
    });
  }

  /* New tables continue the numbering: after T1…T8 the next one is 9. */
  function suggestNextNumber() {
    var start = document.getElementById("add-start");
    if (!start) return;
    var highest = 0;
    tables.forEach(function (t) {
      var digits = /(\d+)\s*$/.exec(t.label);
      if (digits) highest = Math.max(highest, parseInt(digits[1], 10));
    });
    start.value = String(highest + 1);
  }

  function wireAddForm() {
    var form = document.getElementById("add-tables-form");
    if (!form) return;
    var alertBox = document.getElementById("add-errors");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      C.clearProblems(form, alertBox);
      C.busy(form);
      var f = form.elements;
      var payload = {
        count: parseInt(f.namedItem("count").value, 10) || 0,
        start: parseInt(f.namedItem("start").value, 10) || 0,
        label_fmt: f.namedItem("label_fmt").value.trim(),
      };
      C.api("POST", TABLES, payload).then(function (result) {
        C.release(form);
        if (!result.ok) {
          C.showProblem(form, alertBox, result.data);
          return;
        }
        var added = result.data.items ? result.data.items.length : 1;
        window.Servio.toast(added === 1 ? "Added 1 table" : "Added " + added + " tables");
        load().then(C.refreshUsage);
      });
    });
  }

  function wirePackPreview() {
    var input = document.getElementById("pack-label");
    var example = document.getElementById("pack-label-example");
    if (!input || !example) return;
    function sync() {
      var first = tables[0] ? tables[0].label : "T1";
      example.textContent = (input.value || "{label}").split("{label}").join(first).split("{n}").join("1");
    }
    input.addEventListener("input", sync);
    sync();
    return sync;
  }

  document.addEventListener("DOMContentLoaded", function () {
    app = document.getElementById("tables-app");
    if (!app) return;
    canState = app.dataset.canState === "true";
    canQr = app.dataset.canQr === "true";
    try {
      transitions = JSON.parse(app.dataset.transitions || "{}");
    } catch (error) {
      transitions = {};
    }
    document.getElementById("table-grid").addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      var id = button.closest("[data-table-id]").dataset.tableId;
      var table = tables.filter(function (t) { return t.id === id; })[0];
      if (!table) return;
      if (button.dataset.setState) setState(table, button.dataset.setState);
      else if (button.hasAttribute("data-rotate")) rotate(table, button);
    });
    wireAddForm();
    var syncPreview = wirePackPreview();
    load().then(function () {
      if (syncPreview) syncPreview();
    });
  });
})();
