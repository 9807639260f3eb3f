/* Staff POS (ORD-03, seed 001): menu grid by category with search, a cart with modifiers and
   notes, a table or the counter, Send order, Park as open ticket, and the open tickets
   (resume, check out, cancel).

   Prices shown in the cart are a preview from the menu; the server prices every order and
   ticket again and its figures are what count (they replace the preview after each call).
   Every call that creates an order carries an Idempotency-Key kept until it succeeds, so a
   retry after a dropped connection never orders twice. */
(function () {
  "use strict";

  var MENU_URL = "/api/v1/pos/menu";
  var MAP_URL = "/api/v1/tables/map";
  var ORDERS_URL = "/api/v1/orders";
  var TICKETS_URL = "/api/v1/open_tickets";

  var app;
  var currency = "INR";
  var menu = { categories: [], items: [] };
  var itemsById = {};
  var category = ""; // "" = all
  var query = "";
  var cart = []; // {menu_item_id, name, unit, qty, note, modifiers:[ids], modifierNames:[..]}
  var points = [];
  var resumed = null; // the open ticket being edited {id, name, version, note}
  var sendKey = null; // Idempotency-Key of the pending send (kept until it succeeds)
  var busy = false;
  var dialogItem = null;
  var lastFocus = null;

  /* ------------------------------------------------------------------ helpers */

  function $(id) {
    return document.getElementById(id);
  }

  var kit = window.ServioStaff; // staff-kit.js
  var el = kit.el;
  var problemText = kit.problemText;

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var out = "";
    for (var i = 0; i < 32; i++) out += Math.floor(Math.random() * 16).toString(16);
    return out;
  }

  function api(method, url, body, headers) {
    return kit.api(method, url, body, { headers: headers });
  }

  function showError(message) {
    var box = $("pos-error");
    box.querySelector("[data-error-text]").textContent = message || "";
    box.hidden = !message;
    if (message) box.focus();
  }

  var moneyFormat = null;
  function money(minor) {
    if (minor === null || minor === undefined) return "–";
    if (!moneyFormat) {
      try {
        moneyFormat = new Intl.NumberFormat(undefined, { style: "currency", currency: currency });
      } catch (e) {
        moneyFormat = { format: function (v) { return currency + " " + v.toFixed(2); } };
      }
    }
    return moneyFormat.format(minor / 100);
  }

  function toast(message) {
    if (window.Servio && window.Servio.toast) window.Servio.toast(message);
  }

  /* ------------------------------------------------------------------ menu */

  function loadMenu() {
    return api("GET", MENU_URL).then(function (result) {
      var list = $("pos-items");
      list.setAttribute("aria-busy", "false");
      if (!result.ok) {
        list.innerHTML = "";
        list.appendChild(el("li", "muted", problemText(result, "The menu could not be loaded.")));
        return;
      }
      menu = result.data;
      currency = menu.currency || currency;
      moneyFormat = null;
      itemsById = {};
      menu.items.forEach(function (item) {
        itemsById[item.id] = item;
      });
      renderCategories();
      renderItems();
      renderCart();
    });
  }

  function renderCategories() {
    var box = $("pos-cats");
    box.innerHTML = "";
    var cats = [{ id: "", name: "All" }].concat(menu.categories);
    var used = {};
    menu.items.forEach(function (item) {
      used[item.category_id || ""] = true;
    });
    cats.forEach(function (cat) {
      if (cat.id && !used[cat.id]) return;
      var b = el("button", "pos-cat", cat.name);
      b.type = "button";
      b.setAttribute("role", "tab");
      b.setAttribute("aria-selected", cat.id === category ? "true" : "false");
      b.dataset.category = cat.id;
      b.addEventListener("click", function () {
        category = cat.id;
        renderCategories();
        renderItems();
      });
      box.appendChild(b);
    });
  }

  function visibleItems() {
    var q = query.trim().toLowerCase();
    return menu.items.filter(function (item) {
      if (q) return item.name.toLowerCase().indexOf(q) !== -1; // search spans categories
      return !category || item.category_id === category;
    });
  }

  function renderItems() {
    var list = $("pos-items");
    list.innerHTML = "";
    var items = visibleItems();
    if (!items.length) {
      list.appendChild(el("li", "muted pos-none", query ? "Nothing matches “" + query + "”." : "No items here."));
      return;
    }
    items.forEach(function (item) {
      var li = el("li");
      var b = el("button", "pos-item");
      b.type = "button";
      b.dataset.itemId = item.id;
      b.appendChild(el("span", "pos-item-name", item.name));
      var meta = el("span", "pos-item-meta");
      meta.appendChild(el("span", "pos-item-price", money(item.price)));
      if (item.groups.length) meta.appendChild(el("span", "pos-item-tag", "options"));
      b.appendChild(meta);
      if (!item.is_available) {
        b.disabled = true;
        b.classList.add("is-out");
        b.appendChild(el("span", "badge badge-danger", "Out of stock"));
      }
      b.setAttribute(
        "aria-label",
        item.name + ", " + money(item.price) + (item.is_available ? "" : ", out of stock")
      );
      b.addEventListener("click", function () {
        pick(item);
      });
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  function pick(item) {
    if (item.groups.length) {
      openDialog(item);
      return;
    }
    addLine(item, 1, "", []);
  }

  /* ------------------------------------------------------------------ modifier dialog */

  function openDialog(item) {
    dialogItem = item;
    lastFocus = document.activeElement;
    $("pos-dialog-title").textContent = item.name;
    $("pos-dialog-price").textContent = money(item.price);
    $("pos-dialog-note").value = "";
    $("pos-dialog-qty").value = "1";
    $("pos-dialog-error").hidden = true;
    var box = $("pos-dialog-groups");
    box.innerHTML = "";
    item.groups.forEach(function (group) {
      var fs = el("fieldset", "pos-group");
      var single = group.max_select === 1;
      var rule = group.min_select > 0 ? (single ? "pick one" : "pick " + group.min_select + "–" + group.max_select) : "optional";
      var legend = el("legend", null, group.name + " ");
      legend.appendChild(el("span", "muted small", "(" + rule + ")"));
      fs.appendChild(legend);
      fs.dataset.groupId = group.id;
      group.modifiers.forEach(function (mod, index) {
        var label = el("label", "pos-mod");
        var input = el("input");
        input.type = single ? "radio" : "checkbox";
        input.name = "g-" + group.id;
        input.value = mod.id;
        input.disabled = !mod.is_available;
        if (single && group.min_select > 0 && index === 0 && mod.is_available) input.checked = true;
        label.appendChild(input);
        label.appendChild(el("span", null, mod.name));
        if (mod.price_delta) label.appendChild(el("span", "muted small", "+" + money(mod.price_delta)));
        fs.appendChild(label);
      });
      box.appendChild(fs);
    });
    $("pos-dialog").hidden = false;
    var first = box.querySelector("input:not([disabled])") || $("pos-dialog-note");
    first.focus();
  }

  function closeDialog() {
    $("pos-dialog").hidden = true;
    dialogItem = null;
    if (lastFocus && lastFocus.focus) lastFocus.focus();
  }

  function confirmDialog() {
    var item = dialogItem;
    if (!item) return;
    var chosen = [];
    var problems = [];
    item.groups.forEach(function (group) {
      var picked = Array.prototype.slice
        .call(document.querySelectorAll('input[name="g-' + group.id + '"]:checked'))
        .map(function (input) { return input.value; });
      if (picked.length < group.min_select) problems.push(group.name + ": pick at least " + group.min_select);
      if (picked.length > group.max_select) problems.push(group.name + ": pick at most " + group.max_select);
      chosen = chosen.concat(picked);
    });
    if (problems.length) {
      var error = $("pos-dialog-error");
      error.textContent = problems.join(". ") + ".";
      error.hidden = false;
      return;
    }
    var qty = Math.max(1, Math.min(99, parseInt($("pos-dialog-qty").value, 10) || 1));
    addLine(item, qty, $("pos-dialog-note").value.trim(), chosen);
    closeDialog();
  }

  /* ------------------------------------------------------------------ cart */

  function modifierInfo(item, ids) {
    var byId = {};
    item.groups.forEach(function (g) {
      g.modifiers.forEach(function (m) { byId[m.id] = m; });
    });
    var delta = 0;
    var names = [];
    ids.forEach(function (id) {
      if (byId[id]) {
        delta += byId[id].price_delta;
        names.push(byId[id].name);
      }
    });
    return { delta: delta, names: names };
  }

  function addLine(item, qty, note, modifiers) {
    var key = item.id + "|" + modifiers.slice().sort().join(",") + "|" + note;
    var same = cart.filter(function (line) { return line.key === key; })[0];
    if (same) {
      same.qty = Math.min(99, same.qty + qty);
    } else {
      var info = modifierInfo(item, modifiers);
      cart.push({
        key: key,
        menu_item_id: item.id,
        name: item.name,
        unit: item.price + info.delta,
        qty: qty,
        note: note,
        modifiers: modifiers,
        modifierNames: info.names,
      });
    }
    cartChanged();
  }

  function cartChanged() {
    sendKey = null; // a different cart is a different request
    renderCart();
  }

  function renderCart() {
    var list = $("pos-lines");
    list.innerHTML = "";
    if (!cart.length) {
      list.appendChild(el("li", "muted pos-empty", "Tap an item to add it."));
    }
    cart.forEach(function (line, index) {
      var li = el("li", "pos-line");
      var main = el("div", "pos-line-main");
      main.appendChild(el("span", "pos-line-name", line.name));
      if (line.modifierNames.length) main.appendChild(el("span", "pos-line-mods", line.modifierNames.join(", ")));
      if (line.note) main.appendChild(el("span", "pos-line-note", "“" + line.note + "”"));
      li.appendChild(main);
      var qty = el("div", "pos-line-qty");
      var minus = el("button", "btn btn-secondary pos-qty-btn", "−");
      minus.type = "button";
      minus.setAttribute("aria-label", "One less " + line.name);
      minus.addEventListener("click", function () {
        line.qty -= 1;
        if (line.qty < 1) cart.splice(index, 1);
        cartChanged();
      });
      var plus = el("button", "btn btn-secondary pos-qty-btn", "+");
      plus.type = "button";
      plus.setAttribute("aria-label", "One more " + line.name);
      plus.addEventListener("click", function () {
        line.qty = Math.min(99, line.qty + 1);
        cartChanged();
      });
      qty.appendChild(minus);
      qty.appendChild(el("span", "pos-line-count", String(line.qty)));
      qty.appendChild(plus);
      li.appendChild(qty);
      li.appendChild(el("span", "pos-line-total", money(line.unit * line.qty)));
      var remove = el("button", "btn btn-link pos-remove", "Remove");
      remove.type = "button";
      remove.setAttribute("aria-label", "Remove " + line.name);
      remove.addEventListener("click", function () {
        cart.splice(index, 1);
        cartChanged();
      });
      li.appendChild(remove);
      list.appendChild(li);
    });
    var subtotal = cart.reduce(function (sum, line) { return sum + line.unit * line.qty; }, 0);
    $("pos-subtotal").textContent = cart.length ? money(subtotal) : "–";
    var empty = !cart.length;
    $("pos-send").disabled = empty || busy;
    $("pos-park").disabled = empty || busy;
    $("pos-clear").disabled = empty && !resumed;
    $("pos-send").textContent = resumed ? "Check out ticket" : "Send order";
    $("pos-park").textContent = resumed ? "Save ticket" : "Park as open ticket";
    var badge = $("pos-resumed");
    badge.hidden = !resumed;
    badge.textContent = resumed ? "Ticket: " + resumed.name : "";
  }

  function cartItems() {
    return cart.map(function (line) {
      return { menu_item_id: line.menu_item_id, qty: line.qty, note: line.note, modifiers: line.modifiers };
    });
  }

  function clearCart() {
    cart = [];
    resumed = null;
    sendKey = null;
    renderCart();
  }

  /* ------------------------------------------------------------------ tables */

  function loadTables() {
    if (app.dataset.canReadTables !== "true") return Promise.resolve();
    return api("GET", MAP_URL).then(function (result) {
      if (!result.ok) return;
      points = result.data.items || [];
      renderTables();
    });
  }

  function renderTables() {
    var select = $("pos-table");
    var current = select.value;
    select.innerHTML = "";
    select.appendChild(new Option("Counter (no table)", ""));
    points.forEach(function (point) {
      if (point.state === "disabled") return;
      var seated = point.live && point.live.session_id;
      var text = point.label + (point.kind !== "table" ? " (" + point.kind + ")" : "") + (seated ? " · seated" : "");
      select.appendChild(new Option(text, point.id));
    });
    select.value = current;
  }

  function tableLabel(id) {
    var point = points.filter(function (p) { return p.id === id; })[0];
    return point ? point.label : null;
  }

  /* ------------------------------------------------------------------ send / park */

  function setBusy(value) {
    busy = value;
    app.setAttribute("aria-busy", value ? "true" : "false");
    renderCart();
  }

  function send() {
    if (!cart.length || busy) return;
    if (resumed) {
      saveTicket().then(function (ok) {
        if (ok) checkout(resumed.id, resumed.name);
      });
      return;
    }
    showError("");
    var table = $("pos-table").value || null;
    sendKey = sendKey || newKey();
    setBusy(true);
    api(
      "POST",
      ORDERS_URL,
      { service_point_id: table, items: cartItems(), source: table ? "pos" : "counter" },
      { "Idempotency-Key": sendKey }
    ).then(function (result) {
      setBusy(false);
      if (!result.ok) {
        showError(problemText(result, "The order could not be sent."));
        return;
      }
      var order = result.data;
      clearCart();
      var where = order.service_point_id ? tableLabel(order.service_point_id) || "the table" : "the counter";
      toast("Order sent for " + where + (order.ticket_no ? " · ticket #" + order.ticket_no : "") + " · " + money(order.subtotal));
      announceSent(order, where);
      loadTables();
    });
  }

  function announceSent(order, where) {
    var region = $("pos-last");
    if (!region) {
      region = el("p", "alert alert-success pos-last");
      region.id = "pos-last";
      region.setAttribute("role", "status");
      $("pos-lines").parentNode.insertBefore(region, $("pos-lines"));
    }
    region.textContent =
      "Sent to the kitchen for " + where + (order.ticket_no ? " — ticket #" + order.ticket_no : "") +
      ", " + order.item_count + " item" + (order.item_count === 1 ? "" : "s") + ", " + money(order.subtotal) + ".";
  }

  function openParkForm() {
    if (!cart.length) return;
    if (resumed) {
      saveTicket().then(function (ok) {
        if (ok) {
          toast("Ticket “" + resumed.name + "” saved");
          clearCart();
          loadTickets();
        }
      });
      return;
    }
    $("pos-park-form").hidden = false;
    var table = $("pos-table").value;
    $("pos-park-name").value = table ? tableLabel(table) || "" : "";
    $("pos-park-name").focus();
  }

  function park(event) {
    event.preventDefault();
    var name = $("pos-park-name").value.trim();
    if (!name) {
      $("pos-park-name").focus();
      return;
    }
    showError("");
    setBusy(true);
    api("POST", TICKETS_URL, {
      name: name,
      service_point_id: $("pos-table").value || null,
      items: cartItems(),
      note: $("pos-park-note").value.trim(),
    }).then(function (result) {
      setBusy(false);
      if (!result.ok) {
        showError(problemText(result, "The ticket could not be parked."));
        return;
      }
      $("pos-park-form").hidden = true;
      $("pos-park-note").value = "";
      clearCart();
      toast("Parked “" + result.data.name + "”");
      loadTickets();
    });
  }

  /* Resolves true when the resumed ticket now holds the cart's lines. */
  function saveTicket() {
    showError("");
    setBusy(true);
    return api(
      "PATCH",
      TICKETS_URL + "/" + resumed.id,
      { items: cartItems(), service_point_id: $("pos-table").value || null },
      { "If-Match": '"' + resumed.version + '"' }
    ).then(function (result) {
      setBusy(false);
      if (!result.ok) {
        showError(problemText(result, "The ticket could not be saved."));
        if (result.status === 409 || result.status === 404) {
          clearCart();
          loadTickets();
        }
        return false;
      }
      resumed.version = result.data.version;
      return true;
    });
  }

  /* ------------------------------------------------------------------ open tickets */

  function loadTickets() {
    return api("GET", TICKETS_URL).then(function (result) {
      var list = $("pos-ticket-list");
      list.innerHTML = "";
      if (!result.ok) {
        list.appendChild(el("li", "muted", problemText(result, "Open tickets could not be loaded.")));
        return;
      }
      var items = result.data.items || [];
      if (!items.length) {
        list.appendChild(el("li", "muted pos-none", "No open tickets."));
        return;
      }
      items.forEach(function (ticket) {
        list.appendChild(ticketCard(ticket));
      });
    });
  }

  function ticketCard(ticket) {
    var li = el("li", "pos-ticket card");
    li.dataset.ticketId = ticket.id;
    var head = el("div", "pos-ticket-head");
    head.appendChild(el("h3", "mt-0 mb-0", ticket.name));
    head.appendChild(el("strong", "pos-ticket-total", money(ticket.subtotal)));
    li.appendChild(head);
    var meta = [ticket.table || "Counter", ticket.item_count + " item" + (ticket.item_count === 1 ? "" : "s")];
    if (ticket.note) meta.push(ticket.note);
    li.appendChild(el("p", "small muted mb-0", meta.join(" · ")));
    var lines = el("ul", "pos-ticket-lines");
    ticket.lines.forEach(function (line) {
      var text = line.qty + " × " + line.name + (line.modifier_names.length ? " (" + line.modifier_names.join(", ") + ")" : "");
      var item = el("li", line.is_available ? null : "is-out", text);
      if (!line.is_available) item.appendChild(el("span", "badge badge-danger", "unavailable"));
      lines.appendChild(item);
    });
    li.appendChild(lines);
    var actions = el("div", "pos-ticket-actions");
    var resume = el("button", "btn btn-secondary", "Resume");
    resume.type = "button";
    resume.setAttribute("aria-label", "Resume " + ticket.name);
    resume.addEventListener("click", function () { resumeTicket(ticket); });
    var pay = el("button", "btn btn-primary", "Check out");
    pay.type = "button";
    pay.disabled = !ticket.orderable;
    pay.setAttribute("aria-label", "Check out " + ticket.name);
    pay.addEventListener("click", function () { checkout(ticket.id, ticket.name); });
    var cancel = el("button", "btn btn-link", "Cancel ticket");
    cancel.type = "button";
    cancel.setAttribute("aria-label", "Cancel " + ticket.name);
    cancel.addEventListener("click", function () { cancelTicket(ticket, cancel); });
    actions.appendChild(resume);
    actions.appendChild(pay);
    actions.appendChild(cancel);
    li.appendChild(actions);
    return li;
  }

  function resumeTicket(ticket) {
    showError("");
    api("POST", TICKETS_URL + "/" + ticket.id + "/resume").then(function (result) {
      if (!result.ok) {
        showError(problemText(result, "The ticket could not be resumed."));
        loadTickets();
        return;
      }
      var t = result.data;
      resumed = { id: t.id, name: t.name, version: t.version };
      cart = t.lines.map(function (line) {
        return {
          key: line.menu_item_id + "|" + line.modifiers.slice().sort().join(",") + "|" + line.note,
          menu_item_id: line.menu_item_id,
          name: line.name,
          unit: line.unit_price,
          qty: line.qty,
          note: line.note,
          modifiers: line.modifiers,
          modifierNames: line.modifier_names,
        };
      });
      sendKey = null;
      $("pos-table").value = t.service_point_id || "";
      renderCart();
      toast("Resumed “" + t.name + "”");
      $("pos-cart-title").scrollIntoView({ block: "nearest" });
      $("pos-send").focus();
    });
  }

  var checkoutKeys = {};
  function checkout(id, name) {
    showError("");
    checkoutKeys[id] = checkoutKeys[id] || newKey();
    setBusy(true);
    api("POST", TICKETS_URL + "/" + id + "/checkout", undefined, { "Idempotency-Key": checkoutKeys[id] }).then(
      function (result) {
        setBusy(false);
        if (!result.ok) {
          showError(problemText(result, "The ticket could not be checked out."));
          if (result.status !== 0) delete checkoutKeys[id];
          loadTickets();
          return;
        }
        delete checkoutKeys[id];
        var order = result.data.order;
        if (resumed && resumed.id === id) clearCart();
        toast("Checked out “" + name + "”" + (order.ticket_no ? " · ticket #" + order.ticket_no : ""));
        announceSent(order, "“" + name + "”");
        loadTickets();
      }
    );
  }

  function cancelTicket(ticket, button) {
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = "Tap again to cancel";
      window.setTimeout(function () {
        button.dataset.armed = "";
        button.textContent = "Cancel ticket";
      }, 4000);
      return;
    }
    api("POST", TICKETS_URL + "/" + ticket.id + "/cancel").then(function (result) {
      if (!result.ok) showError(problemText(result, "The ticket could not be cancelled."));
      else toast("Cancelled “" + ticket.name + "”");
      if (resumed && resumed.id === ticket.id) clearCart();
      loadTickets();
    });
  }

  /* ------------------------------------------------------------------ wiring */

  function onKey(event) {
    var dialogOpen = !$("pos-dialog").hidden;
    if (event.key === "Escape") {
      if (dialogOpen) closeDialog();
      else if (!$("pos-park-form").hidden) $("pos-park-form").hidden = true;
      return;
    }
    if (dialogOpen) {
      if (event.key === "Enter" && event.target.tagName !== "BUTTON") {
        event.preventDefault();
        confirmDialog();
      }
      return;
    }
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName);
    if (event.key === "/" && !typing) {
      event.preventDefault();
      $("pos-search").focus();
    } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      send();
    }
  }

  function trapFocus(event) {
    if (event.key !== "Tab" || $("pos-dialog").hidden) return;
    var focusable = $("pos-dialog").querySelectorAll("input:not([disabled]), button:not([disabled])");
    var first = focusable[0];
    var last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    app = $("pos-app");
    if (!app) return;
    currency = app.dataset.currency || currency;
    $("pos-search").addEventListener("input", function (event) {
      query = event.target.value;
      renderItems();
    });
    $("pos-search").addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
        var first = $("pos-items").querySelector("button:not([disabled])");
        if (first) {
          event.preventDefault();
          first.click();
        }
      }
    });
    $("pos-send").addEventListener("click", send);
    $("pos-park").addEventListener("click", openParkForm);
    $("pos-park-form").addEventListener("submit", park);
    $("pos-park-cancel").addEventListener("click", function () { $("pos-park-form").hidden = true; });
    $("pos-clear").addEventListener("click", clearCart);
    $("pos-tickets-reload").addEventListener("click", loadTickets);
    $("pos-table").addEventListener("change", function () { sendKey = null; });
    $("pos-dialog-add").addEventListener("click", confirmDialog);
    $("pos-dialog-cancel").addEventListener("click", closeDialog);
    $("pos-dialog").addEventListener("click", function (event) {
      if (event.target === $("pos-dialog")) closeDialog();
    });
    Array.prototype.forEach.call(document.querySelectorAll(".pos-stepper [data-step]"), function (button) {
      button.addEventListener("click", function () {
        var input = $("pos-dialog-qty");
        var value = (parseInt(input.value, 10) || 1) + parseInt(button.dataset.step, 10);
        input.value = String(Math.max(1, Math.min(99, value)));
      });
    });
    document.addEventListener("keydown", onKey);
    document.addEventListener("keydown", trapFocus);
    loadMenu();
    loadTables();
    loadTickets();
  });
})();
