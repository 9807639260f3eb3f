/* Staff bill screens (BILL-05, PAY-01…04, STAFF-02): the open bills of the outlet
   (`/staff/bills`) and one bill (`/staff/bills/{invoice_id}`).

   Reads: `GET /api/v1/invoices`, `GET /api/v1/sessions?state=active`,
   `GET /api/v1/invoices/{id}`, `GET /api/v1/invoices/{id}/payments`.
   Writes (cookie + CSRF header through staff-kit.js; every money POST with an
   Idempotency-Key that is kept while the same request is retried, so a double tap or a
   dropped connection never charges twice): `POST /api/v1/sessions/{id}/bill`,
   `POST /api/v1/invoices/{id}/payments`, `POST /api/v1/approvals/verify_pin` then
   `POST /api/v1/payments/{id}/refunds`. */
(function () {
  "use strict";

  var kit = window.ServioStaff;
  var el = kit.el;
  var app, currency, timezone;

  /* ------------------------------------------------------------------ helpers */

  function money(minor, cur) {
    return kit.formatMoney(minor, cur || currency);
  }

  function parseMoney(text, cur) {
    return kit.parseMoney(text, cur || currency);
  }

  function plain(minor, cur) {
    return kit.plainMoney(minor, cur || currency);
  }

  function clock(value) {
    return kit.clock(value, timezone);
  }

  var items = kit.items;
  var moneyPost = kit.moneyPost;

  function showError(boxId, message) {
    kit.notice(boxId, message);
    if (message) document.getElementById(boxId).focus();
  }

  var STATUS = {
    sent: ["Unpaid", "badge-warning"],
    partial: ["Part paid", "badge-info"],
    paid: ["Paid", "badge-success"],
    overdue: ["Overdue", "badge-danger"],
    void: ["Void", "badge-plain"],
  };
  var METHOD = { cash: "Cash", card: "Card", upi: "UPI", gateway: "Online" };

  function balanceOf(inv) {
    if (inv.balance_due !== undefined && inv.balance_due !== null) return inv.balance_due;
    return inv.total - (inv.paid_amount || 0) + (inv.refunded_amount || 0) - (inv.credited_amount || 0);
  }

  function statusBadge(status) {
    var s = STATUS[status] || [status, "badge-plain"];
    var badge = el("span", "badge " + s[1], s[0]);
    badge.dataset.status = status;
    return badge;
  }

  function billUrl(inv) {
    return "/staff/bills/" + encodeURIComponent(inv.id);
  }

  /* ================================================================== the list */

  var canBill = false;
  var canReadSessions = false;

  function billItem(inv) {
    var li = el("li", "bill-item");
    li.dataset.invoiceId = inv.id;
    var a = el("a", "bill-link");
    a.href = billUrl(inv);
    var top = el("span", "bill-item-top");
    top.appendChild(el("strong", "", inv.table_label || inv.number || "Bill"));
    top.appendChild(statusBadge(inv.status));
    a.appendChild(top);
    var meta = [inv.number];
    if (inv.issued_at) meta.push(clock(inv.issued_at));
    if ((inv.splits || []).length) meta.push("split in " + inv.splits.length);
    a.appendChild(el("span", "bill-item-meta muted", meta.filter(Boolean).join(" · ")));
    var figs = el("span", "bill-item-figs");
    figs.appendChild(el("span", "", "Total " + money(inv.total, inv.currency)));
    var due = balanceOf(inv);
    figs.appendChild(el("strong", due > 0 ? "due" : "", due > 0 ? "Due " + money(due, inv.currency) : "Paid"));
    a.appendChild(figs);
    li.appendChild(a);
    return li;
  }

  function sessionItem(session) {
    var li = el("li", "bill-item bill-item-session");
    li.dataset.sessionId = session.session_id;
    var box = el("div", "bill-link");
    var top = el("span", "bill-item-top");
    top.appendChild(el("strong", "", session.table_label || "Table"));
    box.appendChild(top);
    var meta = [session.order_count + (session.order_count === 1 ? " order" : " orders")];
    if (session.member_count) meta.push(session.member_count + " guests");
    box.appendChild(el("span", "bill-item-meta muted", meta.join(" · ")));
    var figs = el("span", "bill-item-figs");
    figs.appendChild(el("span", "", "Ordered " + money(session.subtotal)));
    box.appendChild(figs);
    li.appendChild(box);
    if (canBill) {
      var button = el("button", "btn btn-primary btn-bill", "Bill");
      button.type = "button";
      button.dataset.bill = session.session_id;
      button.setAttribute("aria-label", "Bill " + (session.table_label || "this table"));
      li.appendChild(button);
    }
    return li;
  }

  function fill(listId, nodes, empty) {
    var list = document.getElementById(listId);
    if (!list) return;
    list.textContent = "";
    list.removeAttribute("aria-busy");
    if (!nodes.length) list.appendChild(el("li", "muted", empty));
    nodes.forEach(function (n) { list.appendChild(n); });
  }

  function loadList() {
    var reads = [kit.api("GET", "/api/v1/invoices?limit=100")];
    if (canReadSessions) reads.push(kit.api("GET", "/api/v1/sessions?state=active"));
    return Promise.all(reads).then(function (results) {
      var invResult = results[0];
      if (!invResult.ok) {
        showError("bills-error", kit.problemText(invResult, "The bills could not be loaded."));
        return;
      }
      kit.notice("bills-error", "");
      var all = items(invResult).filter(function (i) { return (i.kind || "invoice") === "invoice"; });
      var open = all.filter(function (i) { return i.status !== "paid" && i.status !== "void"; });
      var paid = all.filter(function (i) { return i.status === "paid"; }).slice(0, 20);
      fill("bill-list", open.map(billItem), "No open bills. Bills appear here when a table asks for one.");
      fill("paid-list", paid.map(billItem), "Nothing paid yet today.");
      if (results[1]) {
        var billed = {};
        all.forEach(function (i) { if (i.session_id && i.status !== "void") billed[i.session_id] = true; });
        var waiting = items(results[1]).filter(function (s) {
          return s.order_count > 0 && s.payment_status === "unpaid" && !billed[s.session_id];
        });
        fill("unbilled-list", waiting.map(sessionItem), "Every seated table with orders has a bill.");
      }
    });
  }

  function billSession(sessionId, button) {
    button.disabled = true;
    button.textContent = "Billing…";
    moneyPost("/api/v1/sessions/" + encodeURIComponent(sessionId) + "/bill", {}).then(function (result) {
      var d = result.data || {};
      var inv = d.id ? d : (d.items || d.invoices || [])[0];
      if (result.ok && inv && inv.id) {
        window.location.assign(billUrl(inv));
        return;
      }
      button.disabled = false;
      button.textContent = "Bill";
      showError("bills-error", kit.problemText(result, "The bill could not be made."));
    });
  }

  function startList() {
    canBill = app.dataset.canBill === "true";
    canReadSessions = app.dataset.canReadSessions === "true";
    document.getElementById("bills-reload").addEventListener("click", loadList);
    app.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-bill]");
      if (button) billSession(button.dataset.bill, button);
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") loadList();
    });
    loadList();
  }

  /* ================================================================== one bill */

  var invoiceId;
  var invoice = null;
  var payments = [];
  var canTake = false;
  var canRefund = false;
  var canReadPayments = false;
  var chosenPart = ""; // split id the form is taking, "" for the balance
  var amountTouched = false;

  function sumRow(list, label, amount, cls) {
    var row = el("div", "sum-row" + (cls ? " " + cls : ""));
    row.appendChild(el("dt", "", label));
    row.appendChild(el("dd", "", money(amount, invoice.currency)));
    list.appendChild(row);
  }

  function renderFigures() {
    var inv = invoice;
    document.getElementById("bill-number").textContent = inv.number || "Bill";
    document.getElementById("bill-where").textContent = inv.table_label ? "Bill · " + inv.table_label : "Bill";
    document.title = (inv.number || "Bill") + " · Servio";
    var badge = document.getElementById("bill-status");
    var s = STATUS[inv.status] || [inv.status, "badge-plain"];
    badge.className = "badge " + s[1];
    badge.textContent = s[0];
    badge.dataset.status = inv.status;
    badge.hidden = false;
    document.getElementById("bill-issued").textContent = inv.issued_at ? "issued " + clock(inv.issued_at) : "";

    var lines = document.getElementById("bill-lines");
    lines.textContent = "";
    var table = el("table", "table bill-table");
    var head = el("thead");
    var hr = el("tr");
    ["Item", "Qty", "Amount"].forEach(function (h, i) {
      var th = el("th", i ? "num" : "", h);
      th.scope = "col";
      hr.appendChild(th);
    });
    head.appendChild(hr);
    table.appendChild(head);
    var body = el("tbody");
    (inv.lines || []).forEach(function (l) {
      var tr = el("tr");
      var name = el("td", "");
      name.appendChild(el("span", "", l.name));
      var taxes = (l.taxes || []).map(function (t) { return t.name + " " + t.rate + "%"; }).join(" + ");
      if (l.hsn || taxes) name.appendChild(el("span", "line-meta muted", [l.hsn ? "HSN " + l.hsn : "", taxes].filter(Boolean).join(" · ")));
      tr.appendChild(name);
      tr.appendChild(el("td", "num", String(l.qty)));
      tr.appendChild(el("td", "num", money(l.subtotal !== undefined ? l.subtotal : l.unit_price * l.qty, inv.currency)));
      body.appendChild(tr);
    });
    table.appendChild(body);
    var wrap = el("div", "table-wrap");
    wrap.appendChild(table);
    lines.appendChild(wrap);

    var sums = document.getElementById("bill-sums");
    sums.textContent = "";
    sumRow(sums, "Subtotal", inv.subtotal);
    (inv.applied_coupons || []).forEach(function (c) {
      var amount = c.discount || c.amount;
      if (amount) sumRow(sums, "Coupon " + (c.code || ""), -amount, "disc");
    });
    var other = (inv.discount_total || 0) - (inv.effective_discount || 0);
    if (other > 0) sumRow(sums, "Discount", -other, "disc");
    if (inv.service_charge) sumRow(sums, "Service charge", inv.service_charge);
    (inv.tax_lines || []).forEach(function (t) {
      sumRow(sums, t.name + " " + t.rate + "%", t.amount, "tax");
    });
    if (inv.tip) sumRow(sums, "Tip", inv.tip);
    if (inv.round_off) sumRow(sums, "Round-off", inv.round_off);
    sumRow(sums, "Total", inv.total, "total");
    if (inv.paid_amount) sumRow(sums, "Paid", inv.paid_amount);
    if (inv.refunded_amount) sumRow(sums, "Refunded", -inv.refunded_amount);
    if (inv.credited_amount) sumRow(sums, "Credit notes", -inv.credited_amount);
    sumRow(sums, "Balance due", balanceOf(inv), "balance");
  }

  function partDue(part) {
    if (part.due !== undefined && part.due !== null) return part.due;
    return Math.max(0, part.amount - (part.paid_amount || 0));
  }

  function partLabel(part) {
    return part.label || "Part " + (part.position + 1);
  }

  function renderParts() {
    var splits = (invoice.splits || []).slice().sort(function (a, b) { return a.position - b.position; });
    var card = document.getElementById("parts-card");
    card.hidden = !splits.length;
    var list = document.getElementById("part-list");
    list.textContent = "";
    splits.forEach(function (part) {
      var due = partDue(part);
      var li = el("li", "part-item" + (due ? "" : " paid"));
      li.dataset.splitId = part.id;
      li.dataset.paid = due ? "false" : "true";
      var text = el("div", "part-text");
      text.appendChild(el("strong", "", partLabel(part)));
      text.appendChild(el("span", "muted", money(part.amount, invoice.currency) + (part.paid_amount ? " · paid " + money(part.paid_amount, invoice.currency) : "")));
      li.appendChild(text);
      if (!due) {
        li.appendChild(el("span", "badge badge-success", "Paid"));
      } else if (canTake) {
        var take = el("button", "btn btn-secondary btn-take", "Take " + money(due, invoice.currency));
        take.type = "button";
        take.dataset.takePart = part.id;
        take.setAttribute("aria-label", "Take payment for " + partLabel(part) + ": " + money(due, invoice.currency));
        li.appendChild(take);
      } else {
        li.appendChild(el("span", "badge badge-warning", "Due " + money(due, invoice.currency)));
      }
      list.appendChild(li);
    });
  }

  function renderTakeForm() {
    var card = document.getElementById("take-card");
    if (!card) return;
    var due = balanceOf(invoice);
    card.hidden = due <= 0 || invoice.status === "void";
    var select = document.getElementById("take-part");
    var splits = (invoice.splits || []).slice().sort(function (a, b) { return a.position - b.position; });
    var open = splits.filter(function (p) { return partDue(p) > 0; });
    document.getElementById("take-part-field").hidden = !open.length;
    select.textContent = "";
    var whole = el("option", "", "Whole balance · " + money(due, invoice.currency));
    whole.value = "";
    select.appendChild(whole);
    open.forEach(function (p) {
      var o = el("option", "", partLabel(p) + " · " + money(partDue(p), invoice.currency));
      o.value = p.id;
      select.appendChild(o);
    });
    if (chosenPart && !open.some(function (p) { return p.id === chosenPart; })) chosenPart = "";
    if (!chosenPart && open.length) chosenPart = open[0].id;
    select.value = chosenPart;
    if (!amountTouched) prefillAmount();
    showChange();
  }

  function prefillAmount() {
    var amount = balanceOf(invoice);
    if (chosenPart) {
      var part = (invoice.splits || []).filter(function (p) { return p.id === chosenPart; })[0];
      if (part) amount = Math.min(partDue(part), amount);
    }
    document.getElementById("take-amount").value = amount > 0 ? plain(amount, invoice.currency) : "";
  }

  function method() {
    var checked = document.querySelector('input[name="method"]:checked');
    return checked ? checked.value : "cash";
  }

  function showMethodFields() {
    var m = method();
    var fields = document.querySelectorAll("#take-form [data-for]");
    for (var i = 0; i < fields.length; i++) fields[i].hidden = fields[i].dataset.for !== m;
    showChange();
  }

  function showChange() {
    var out = document.getElementById("take-change");
    if (!out || !invoice) return;
    var amount = parseMoney(document.getElementById("take-amount").value, invoice.currency);
    var tendered = parseMoney(document.getElementById("take-tendered").value, invoice.currency);
    if (method() !== "cash" || amount === null || tendered === null || !document.getElementById("take-tendered").value) {
      out.hidden = true;
      return;
    }
    out.hidden = false;
    out.classList.toggle("short", tendered < amount);
    out.textContent = tendered < amount ? "Short by " + money(amount - tendered, invoice.currency) : "Change to give: " + money(tendered - amount, invoice.currency);
  }

  function takeError(message) {
    var box = document.getElementById("take-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function submitPayment(event) {
    event.preventDefault();
    takeError("");
    kit.notice("bill-ok", "");
    var m = method();
    var amount = parseMoney(document.getElementById("take-amount").value, invoice.currency);
    if (!amount || amount <= 0) return takeError("Enter the amount received.");
    var body = { method: m, amount: amount };
    if (chosenPart) body.split_id = chosenPart;
    var change = 0;
    if (m === "cash") {
      var raw = document.getElementById("take-tendered").value;
      if (raw) {
        var tendered = parseMoney(raw, invoice.currency);
        if (tendered === null || tendered < amount) return takeError("The cash handed over is less than the amount.");
        body.tendered = tendered;
        change = tendered - amount;
      }
    } else if (m === "card") {
      var ref = document.getElementById("take-reference").value.trim();
      if (!ref) return takeError("Enter the terminal reference from the card slip.");
      if (/^\d{12,19}$/.test(ref.replace(/[\s-]/g, ""))) return takeError("That looks like a card number. Enter the terminal's approval or transaction id instead.");
      body.reference = ref;
    } else if (m === "upi") {
      var utr = document.getElementById("take-utr").value.trim();
      if (!/^\d{12}$/.test(utr)) return takeError("The UPI UTR is the 12-digit number on the payer's screen.");
      body.utr = utr;
    }
    var button = document.getElementById("take-submit");
    button.disabled = true;
    button.textContent = "Recording…";
    moneyPost("/api/v1/invoices/" + encodeURIComponent(invoiceId) + "/payments", body).then(function (result) {
      button.disabled = false;
      button.textContent = "Record payment";
      if (!result.ok) {
        takeError(kit.problemText(result, "The payment could not be recorded."));
        return;
      }
      var d = result.data || {};
      var changeDue = d.change_due !== undefined ? d.change_due : change;
      var text = "Recorded " + (METHOD[m] || m) + " " + money(amount, invoice.currency) + (changeDue ? ". Give " + money(changeDue, invoice.currency) + " change." : ".");
      kit.notice("bill-ok", text);
      kit.announce("bill-announcer", text);
      ["take-tendered", "take-reference", "take-utr"].forEach(function (id) { document.getElementById(id).value = ""; });
      amountTouched = false;
      chosenPart = "";
      loadBill();
    });
  }

  function renderPayments() {
    var list = document.getElementById("payment-list");
    if (!list) return;
    list.textContent = "";
    if (!payments.length) list.appendChild(el("li", "muted", "No payments yet."));
    payments.forEach(function (p) {
      var li = el("li", "payment-item");
      li.dataset.paymentId = p.id;
      li.dataset.method = p.method;
      var text = el("div", "payment-text");
      var title = el("strong", "", (METHOD[p.method] || p.method) + " " + money(p.amount, p.currency || invoice.currency));
      text.appendChild(title);
      var bits = [];
      if (p.status && p.status !== "succeeded") bits.push(p.status);
      if (p.created_at || p.succeeded_at) bits.push(clock(p.succeeded_at || p.created_at));
      if (p.utr) bits.push("UTR " + p.utr);
      else if (p.reference) bits.push((p.method === "upi" ? "UTR " : "Ref ") + p.reference);
      if (p.tendered) bits.push("tendered " + money(p.tendered, p.currency || invoice.currency));
      if (p.change_due) bits.push("change " + money(p.change_due, p.currency || invoice.currency));
      if (p.split_id) {
        var part = (invoice.splits || []).filter(function (s) { return s.id === p.split_id; })[0];
        if (part) bits.push(partLabel(part));
      }
      text.appendChild(el("span", "muted", bits.join(" · ")));
      if (p.refunded_amount) text.appendChild(el("span", "refunded", "Refunded " + money(p.refunded_amount, p.currency || invoice.currency)));
      li.appendChild(text);
      var refundable = p.amount - (p.refunded_amount || 0);
      if (canRefund && (p.status || "succeeded") === "succeeded" && refundable > 0) {
        var button = el("button", "btn btn-secondary btn-refund", "Refund");
        button.type = "button";
        button.dataset.refund = p.id;
        button.setAttribute("aria-label", "Refund " + title.textContent);
        li.appendChild(button);
      }
      list.appendChild(li);
    });
  }

  /* ------------------------------------------------------------------ refunds */

  var refunding = null; // the payment the dialog refunds
  var refundAttempt = null; // {fp, approval}: a refund sent but not answered for sure

  function refundError(message) {
    var box = document.getElementById("refund-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function openRefund(paymentId) {
    refunding = payments.filter(function (p) { return p.id === paymentId; })[0];
    if (!refunding) return;
    var refundable = refunding.amount - (refunding.refunded_amount || 0);
    document.getElementById("refund-what").textContent =
      (METHOD[refunding.method] || refunding.method) + " payment of " + money(refunding.amount, invoice.currency) +
      " · up to " + money(refundable, invoice.currency) + " can be refunded.";
    document.getElementById("refund-amount").value = plain(refundable, invoice.currency);
    document.getElementById("refund-reason").value = "";
    document.getElementById("refund-pin").value = "";
    refundError("");
    document.getElementById("refund-dialog").hidden = false;
    document.getElementById("refund-reason").focus();
  }

  function closeRefund() {
    document.getElementById("refund-dialog").hidden = true;
    var back = refunding && document.querySelector('[data-refund="' + refunding.id + '"]');
    refunding = null;
    if (back) back.focus();
  }

  var approvalToken = kit.approvalToken;

  function submitRefund(event) {
    event.preventDefault();
    refundError("");
    if (!refunding) return;
    var amount = parseMoney(document.getElementById("refund-amount").value, invoice.currency);
    var reason = document.getElementById("refund-reason").value.trim();
    var pin = document.getElementById("refund-pin").value.trim();
    var refundable = refunding.amount - (refunding.refunded_amount || 0);
    if (!amount || amount <= 0) return refundError("Enter the amount to refund.");
    if (amount > refundable) return refundError("At most " + money(refundable, invoice.currency) + " can be refunded.");
    if (!reason) return refundError("Say why the money goes back.");
    var fp = refunding.id + " " + amount + " " + reason;
    var button = document.getElementById("refund-submit");
    button.disabled = true;
    var payment = refunding;

    function done() {
      button.disabled = false;
    }

    function sendRefund(approval) {
      refundAttempt = { fp: fp, approval: approval };
      var url = "/api/v1/payments/" + encodeURIComponent(payment.id) + "/refunds";
      return moneyPost(url, { amount: amount, reason: reason, approval: approval }).then(function (result) {
        var code = (result.data && result.data.code) || "";
        if (result.ok || !(result.status === 0 || result.status >= 500 || code === "IDEMPOTENCY_IN_FLIGHT")) refundAttempt = null;
        done();
        if (!result.ok) {
          refundError(kit.problemText(result, "The refund did not go through."));
          return;
        }
        document.getElementById("refund-dialog").hidden = true;
        refunding = null;
        var text = "Refunded " + money(amount, invoice.currency) + " on the " + (METHOD[payment.method] || payment.method).toLowerCase() + " payment.";
        kit.notice("bill-ok", text);
        kit.announce("bill-announcer", text);
        loadBill();
      });
    }

    // The same refund retried after a dropped answer reuses its approval (and so its
    // Idempotency-Key): the server replays the first answer instead of refunding twice.
    if (refundAttempt && refundAttempt.fp === fp) {
      sendRefund(refundAttempt.approval);
      return;
    }
    if (!pin) {
      done();
      return refundError("A manager must enter their PIN.");
    }
    kit.api("POST", "/api/v1/approvals/verify_pin", { action: "refund", pin: pin }).then(function (result) {
      var token = approvalToken(result.data);
      if (!result.ok || !token) {
        done();
        document.getElementById("refund-pin").value = "";
        document.getElementById("refund-pin").focus();
        refundError(result.status === 429 ? kit.problemText(result, "Too many PIN attempts. Wait a moment.") : kit.problemText(result, "That PIN was not accepted."));
        return;
      }
      sendRefund(token);
    });
  }

  /* ------------------------------------------------------------------ loading */

  function loadBill() {
    var base = "/api/v1/invoices/" + encodeURIComponent(invoiceId);
    var reads = [kit.api("GET", base)];
    if (canReadPayments) reads.push(kit.api("GET", base + "/payments"));
    return Promise.all(reads).then(function (results) {
      var r = results[0];
      if (!r.ok) {
        document.getElementById("bill-number").textContent = r.status === 404 ? "No such bill" : "The bill could not be loaded";
        showError("bill-error", kit.problemText(r, "The bill could not be loaded."));
        return;
      }
      kit.notice("bill-error", "");
      invoice = r.data;
      if (results[1] && results[1].ok) payments = items(results[1]);
      renderFigures();
      renderParts();
      renderTakeForm();
      renderPayments();
      app.dataset.loaded = "true";
    });
  }

  function startDetail() {
    invoiceId = app.dataset.invoiceId;
    canTake = app.dataset.canTake === "true";
    canRefund = app.dataset.canRefund === "true";
    canReadPayments = app.dataset.canReadPayments === "true";
    document.getElementById("bill-reload").addEventListener("click", loadBill);
    var form = document.getElementById("take-form");
    if (form) {
      form.addEventListener("submit", submitPayment);
      form.addEventListener("change", function (event) {
        if (event.target.name === "method") showMethodFields();
        if (event.target.id === "take-part") {
          chosenPart = event.target.value;
          amountTouched = false;
          prefillAmount();
          showChange();
        }
      });
      document.getElementById("take-amount").addEventListener("input", function () {
        amountTouched = true;
        showChange();
      });
      document.getElementById("take-tendered").addEventListener("input", showChange);
      showMethodFields();
    }
    var refundForm = document.getElementById("refund-form");
    if (refundForm) {
      refundForm.addEventListener("submit", submitRefund);
      document.getElementById("refund-cancel").addEventListener("click", closeRefund);
      document.getElementById("refund-dialog").addEventListener("keydown", function (event) {
        if (event.key === "Escape") closeRefund();
      });
    }
    app.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      if (button.dataset.takePart) {
        chosenPart = button.dataset.takePart;
        amountTouched = false;
        document.getElementById("take-part").value = chosenPart;
        prefillAmount();
        showChange();
        document.getElementById("take-amount").focus();
      } else if (button.dataset.refund) {
        openRefund(button.dataset.refund);
      }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") loadBill();
    });
    loadBill();
  }

  function start() {
    app = document.getElementById("bills-app");
    if (!app) return;
    currency = app.dataset.currency || "INR";
    timezone = app.dataset.timezone || undefined;
    if (app.dataset.view === "detail") startDetail();
    else startList();
  }

  kit.onReady(start);
})();
