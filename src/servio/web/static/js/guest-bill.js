// Servio guest app: the bill (GUEST-07) and split bills (BEY-02). Imported by guest.js only
// when the table asks for its bill ("Get bill" under the orders) or already has one (the
// session's payment_status is past "unpaid"); its stylesheet comes with it. Not part of the
// first paint.
//
// - "Get bill" → a sheet with tip chips (only when the outlet takes tips) and a coupon field
//   → POST /g/{token}/bill (+ Idempotency-Key, kept for retries of the same request);
// - the bill: lines grouped by nickname, discounts, service charge, tax lines, round-off,
//   total, paid and balance; "Split" (by guest / evenly) → POST …/invoices/{id}/split;
//   each phone sees ITS share ("You pay ₹…") and which parts are paid;
// - "Pay online" (only when the gateway is on) → POST …/invoices/{id}/pay, otherwise
//   "pay at the counter" with the amount;
// - no guest socket message carries payments, so the bill is read again when the page is
//   shown again and by the Refresh button.
let G, t, h, L;
let invoices = [];
// What the outlet takes, when a reply says so. Tips unknown (null) → offered, and a
// TIPS_DISABLED answer hides them; online payment unknown → off (pay at the counter).
let options = { tips_enabled: null, gateway_enabled: false };
let loading = null;
const pendingKeys = new Map(); // request fingerprint → Idempotency-Key (same request, same key)

export function init(g, css) {
  G = g;
  ({ t, h, L } = g);
  if (css && !document.querySelector("link[data-bill-css]")) {
    document.head.append(h("link", { rel: "stylesheet", href: css, "data-bill-css": "1" }));
  }
  document.addEventListener("visibilitychange", () => { if (!document.hidden && G.sid && !G.stopped) sync(); });
}

const tokenPath = () => `/g/${G.enc(G.token)}`;
const cap = (s) => (s ? s.charAt(0).toUpperCase() + s.slice(1) : s);
const problemText = (r) => {
  const d = r.data || {};
  return cap([d.detail || d.title, d.hint].filter(Boolean).join(". ")) || t("guest.error.generic");
};

// Like G.api but never from the HTTP cache: a bill changes while the page is open.
async function call(method, path, { body, key } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const auth = G.mtoken || G.gtoken;
  if (auth) headers.Authorization = "Bearer " + auth;
  if (key) headers["Idempotency-Key"] = key;
  let r;
  try {
    r = await fetch(path, { method, headers, cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    return { ok: false, status: 0, data: null, code: "" };
  }
  let data = null;
  try { data = await r.json(); } catch { /* empty body */ }
  return { ok: r.ok, status: r.status, data, code: (data && data.code) || "" };
}

const hexKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

// A money POST: the same request (path + body) retried after a dropped connection or a
// server hiccup reuses its Idempotency-Key; a final answer forgets it.
async function moneyPost(path, body) {
  const fp = path + " " + JSON.stringify(body);
  if (!pendingKeys.has(fp)) pendingKeys.set(fp, hexKey());
  const r = await call("POST", path, { body, key: pendingKeys.get(fp) });
  const retryable = r.status === 0 || r.status >= 500 || r.status === 429 || r.code === "IDEMPOTENCY_IN_FLIGHT";
  if (!retryable) pendingKeys.delete(fp);
  return r;
}

function noteOptions(data) {
  // Where the reply says what the outlet takes (tips, online payment), remember it.
  for (const src of [data, data && data.payment_options, data && data.options]) {
    if (!src || typeof src !== "object") continue;
    if (typeof src.tips_enabled === "boolean") options.tips_enabled = src.tips_enabled;
    if (typeof src.gateway_enabled === "boolean") options.gateway_enabled = src.gateway_enabled;
  }
}

// --- reading ------------------------------------------------------------------------------------
export function sync() {
  if (loading) return loading;
  loading = (async () => {
    const r = await call("GET", `${tokenPath()}/invoices`);
    if (r.status === 410) return G.ended();
    if (!r.ok) return;
    noteOptions(r.data);
    const items = Array.isArray(r.data) ? r.data : (r.data && r.data.items) || [];
    items.forEach(noteOptions);
    invoices = items.filter((i) => (i.kind || "invoice") === "invoice" && i.status !== "void");
    render();
  })().finally(() => { loading = null; });
  return loading;
}

async function refresh(button) {
  button.disabled = true;
  try { await sync(); G.toast(t("bill.updated")); } finally { button.disabled = false; }
}

// --- asking for the bill -------------------------------------------------------------------------
function ordersSubtotal() {
  let sum = 0;
  for (const o of G.orders.values()) if (o.status !== "cancelled") sum += o.subtotal || 0;
  return sum;
}

export async function ask() {
  // Only a member of the table may ask (like sending an order): the nickname prompt first.
  const order = await G.order();
  if (order.member && !(await order.member())) return;
  await sync();
  // Everything ordered is on a bill already: show it (another phone may have asked).
  const billed = new Set(invoices.flatMap((i) => i.order_ids || []));
  const open = [...G.orders.values()].filter((o) => o.status !== "cancelled");
  if (invoices.length && open.every((o) => billed.has(o.order_id))) return showBill();
  let tip = 0;
  const base = ordersSubtotal();
  const chips = options.tips_enabled !== false && base > 0
    ? h("div", { class: "chips", role: "group", "aria-label": t("bill.tip") },
      [0, 5, 10, 15].map((pct) => {
        const amount = Math.round((base * pct) / 100 / 100) * 100; // whole rupees
        return h("button", { class: "btn chip", type: "button", "aria-pressed": String(pct === 0), "data-tip": amount,
          onclick: (e) => {
            tip = amount;
            for (const b of chips.querySelectorAll(".chip")) b.setAttribute("aria-pressed", String(b === e.currentTarget));
          } }, pct ? `${pct}% · ${G.money(amount)}` : t("bill.tip.none"));
      }))
    : null;
  const coupon = h("input", { id: "bill-coupon", name: "coupon", autocomplete: "off", autocapitalize: "characters", maxlength: 64 });
  const err = h("p", { class: "err", role: "alert" });
  const hint = h("p", { class: "muted bill-hint" });
  const ok = h("button", { class: "btn btn-main", type: "submit" }, t("bill.request.submit"));
  const form = h("form", { novalidate: true, class: "bill-ask" },
    h("h2", { id: "sheet-h" }, t("bill.request.title")),
    h("p", { class: "muted" }, t("bill.request.text")),
    chips ? h("div", { class: "field" }, h("span", {}, t("bill.tip")), chips) : null,
    h("label", { class: "field" }, t("bill.coupon"), coupon),
    err, hint,
    h("div", { class: "acts" },
      h("button", { class: "btn", type: "button", onclick: () => G.closeSheet() }, t("guest.close")), ok));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = hint.textContent = "";
    coupon.removeAttribute("aria-invalid");
    ok.disabled = true;
    try {
      const codes = coupon.value.split(/[\s,]+/).map((c) => c.trim()).filter(Boolean);
      const body = {};
      if (tip) body.tip = tip;
      if (codes.length) body.coupons = codes;
      const r = await moneyPost(`${tokenPath()}/bill`, body);
      if (r.status === 410) return G.ended();
      if (!r.ok) {
        const d = r.data || {};
        err.textContent = r.status === 0 ? t("guest.offline") : cap(d.detail || d.title) || t("guest.error.generic");
        if (d.hint) hint.textContent = cap(d.hint);
        if (/COUPON|STACK/.test(r.code)) { coupon.setAttribute("aria-invalid", "true"); coupon.focus(); }
        if (r.code === "TIPS_DISABLED" && chips) { options.tips_enabled = false; tip = 0; chips.parentElement.remove(); }
        return;
      }
      noteOptions(r.data);
      G.closeSheet();
      await sync();
      if (!invoices.some((i) => i.id === r.data.id) && r.data.id) { invoices.unshift(r.data); render(); }
      showBill();
    } finally {
      ok.disabled = false;
    }
  });
  G.openSheet(form, null, "bill");
}

function showBill() {
  const el = G.$("#bill");
  if (el) el.scrollIntoView({ block: "start" });
}

// --- the bill -------------------------------------------------------------------------------------
function nicknameOf(memberId) {
  if (!memberId) return t("bill.shared");
  const m = ((G.session && G.session.members) || []).find((x) => x.member_id === memberId);
  const name = m ? m.nickname : "?";
  return memberId === G.memberId ? `${name} (${t("guest.you")})` : name;
}

const row = (label, amount, cls, cur) =>
  h("div", { class: "sum-row" + (cls ? " " + cls : "") }, h("span", {}, label), h("span", {}, G.money(amount, cur)));

function linesByGuest(inv) {
  const groups = new Map();
  for (const l of inv.lines || []) {
    const key = l.member_id || "";
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(l);
  }
  // The caller's own lines first, shared lines last.
  const keys = [...groups.keys()].sort((a, b) => (b === G.memberId) - (a === G.memberId) || (a === "") - (b === ""));
  return keys.map((k) => h("div", { class: "bill-group", "data-member": k || "shared" },
    h("div", { class: "who" }, nicknameOf(k || null)),
    groups.get(k).map((l) => h("div", { class: "bill-line" },
      h("span", {}, `${l.qty} × ${l.name}`),
      h("span", {}, G.money(l.subtotal != null ? l.subtotal : (l.unit_price || 0) * l.qty, inv.currency))))));
}

function sums(inv) {
  const cur = inv.currency;
  const out = [row(t("bill.subtotal"), inv.subtotal, "", cur)];
  for (const c of inv.applied_coupons || []) {
    if (c.discount || c.amount) out.push(row(t("bill.coupon_line", { code: c.code || "" }), -(c.discount || c.amount), "disc", cur));
  }
  const other = (inv.discount_total || 0) - (inv.effective_discount || 0);
  if (other > 0 || (inv.discount_total && !(inv.applied_coupons || []).length)) {
    out.push(row(t("bill.discount"), -(other > 0 ? other : inv.discount_total), "disc", cur));
  }
  if (inv.service_charge) out.push(row(t("bill.service_charge"), inv.service_charge, "", cur));
  for (const tx of inv.tax_lines || []) out.push(row(`${tx.name} ${tx.rate}%`, tx.amount, "tax", cur));
  if (inv.tip) out.push(row(t("bill.tip_line"), inv.tip, "", cur));
  if (inv.round_off) out.push(row(t("bill.round_off"), inv.round_off, "", cur));
  out.push(row(t("bill.total"), inv.total, "total", cur));
  if (inv.paid_amount) out.push(row(t("bill.paid"), inv.paid_amount - (inv.refunded_amount || 0), "", cur));
  out.push(row(t("bill.balance"), balance(inv), "balance", cur));
  return h("div", { class: "sums" }, out);
}

const balance = (inv) => (inv.balance_due != null ? inv.balance_due : inv.total - (inv.paid_amount || 0));
const partDue = (s) => (s.due != null ? s.due : Math.max(0, s.amount - (s.paid_amount || 0)));
const hasPayments = (inv) => (inv.paid_amount || 0) > 0 || (inv.splits || []).some((s) => s.paid_amount > 0);

function parts(inv) {
  const splits = (inv.splits || []).slice().sort((a, b) => a.position - b.position);
  if (!splits.length) return null;
  const even = splits.every((s) => !s.member_id);
  const items = splits.map((s, i) => {
    const mine = !!s.member_id && s.member_id === G.memberId;
    const paid = partDue(s) === 0;
    const who = s.member_id ? nicknameOf(s.member_id) : s.label || t("bill.part.label", { n: i + 1 });
    return h("li", { class: "part" + (mine ? " mine" : "") + (paid ? " paid" : ""), "data-split-id": s.id, "data-paid": String(paid) },
      h("span", { class: "part-who" }, who),
      h("span", { class: "part-amt" }, G.money(s.amount, inv.currency)),
      h("span", { class: "part-state" }, paid ? "✓ " + t("bill.part.paid") : t("bill.part.due", { amount: G.money(partDue(s), inv.currency) })));
  });
  return h("div", { class: "split-box" },
    h("h3", {}, t("bill.split.title", { n: splits.length })),
    even ? h("p", { class: "muted" }, t("bill.each_pays", { amount: G.money(splits[0].amount, inv.currency) })) : null,
    h("ul", { class: "parts" }, items));
}

function myPart(inv) {
  return (inv.splits || []).find((s) => s.member_id && s.member_id === G.memberId) || null;
}

function payArea(inv) {
  const due = balance(inv);
  if (due <= 0 || inv.status === "paid") return h("p", { class: "bill-done", role: "status" }, t("bill.settled"));
  const mine = myPart(inv);
  const out = [];
  let amount = due;
  let splitId;
  if (mine) {
    amount = partDue(mine);
    splitId = mine.id;
    out.push(h("p", { class: "you-pay" + (amount ? "" : " paid"), role: "status" },
      amount ? t("bill.you_pay", { amount: G.money(amount, inv.currency) }) : "✓ " + t("bill.part.paid")));
  }
  if (amount > 0) {
    if (options.gateway_enabled) {
      out.push(h("button", { class: "btn btn-main pay-online", type: "button", onclick: (e) => payOnline(inv, splitId, e.currentTarget) },
        t("bill.pay_online", { amount: G.money(amount, inv.currency) })));
    } else {
      out.push(h("p", { class: "pay-counter" }, t("bill.pay_counter", { amount: G.money(amount, inv.currency) })));
    }
  }
  return h("div", { class: "pay-area" }, out);
}

function invoiceCard(inv) {
  const canSplit = balance(inv) > 0 && !hasPayments(inv) && (inv.lines || []).length > 0;
  return h("article", { class: "inv", "data-invoice-id": inv.id, "data-status": inv.status },
    h("div", { class: "inv-head" },
      h("span", { class: "muted" }, t("bill.number", { number: inv.number || "" })),
      h("span", { class: "badge st-" + inv.status }, L["bill.status." + inv.status] || inv.status)),
    payArea(inv),
    parts(inv),
    linesByGuest(inv),
    sums(inv),
    canSplit ? h("button", { class: "btn split-btn", type: "button", onclick: () => askSplit(inv) }, t("bill.split")) : null);
}

function render() {
  let el = G.$("#bill");
  if (!invoices.length) { if (el) el.remove(); return; }
  if (!el) {
    el = h("section", { id: "bill", class: "bill", "aria-labelledby": "bill-h" });
    G.$("#main").prepend(el);
  }
  const refreshBtn = h("button", { class: "btn refresh", type: "button", onclick: (e) => refresh(e.currentTarget) }, "↻ " + t("bill.refresh"));
  el.replaceChildren(h("div", { class: "bill-head" }, h("h2", { id: "bill-h" }, t("bill.title")), refreshBtn), ...invoices.map(invoiceCard));
}

// --- splitting ------------------------------------------------------------------------------------
function askSplit(inv) {
  const members = ((G.session && G.session.members) || []).length;
  let n = Math.max(2, members || 2);
  const out = h("output", { id: "split-n" }, String(n));
  const step = (d) => h("button", { class: "btn", type: "button", "aria-label": d < 0 ? t("guest.cart.less") : t("guest.cart.more"),
    onclick: () => { n = Math.max(2, Math.min(20, n + d)); out.textContent = n; } }, d < 0 ? "−" : "+");
  const byGuest = h("input", { type: "radio", name: "mode", value: "by_guest", checked: true });
  const even = h("input", { type: "radio", name: "mode", value: "even" });
  const count = h("div", { class: "field qty split-count", hidden: true }, h("span", {}, t("bill.split.parts")), step(-1), out, step(1));
  for (const r of [byGuest, even]) r.addEventListener("change", () => { count.hidden = !even.checked; });
  const err = h("p", { class: "err", role: "alert" });
  const ok = h("button", { class: "btn btn-main", type: "submit" }, t("bill.split.submit"));
  const form = h("form", { novalidate: true },
    h("h2", { id: "sheet-h" }, t("bill.split")),
    h("label", { class: "opt" }, byGuest, h("span", {}, t("bill.split.by_guest"))),
    h("label", { class: "opt" }, even, h("span", {}, t("bill.split.even"))),
    count, err,
    h("div", { class: "acts" },
      h("button", { class: "btn", type: "button", onclick: () => G.closeSheet() }, t("guest.close")), ok));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    ok.disabled = true;
    try {
      const body = even.checked ? { mode: "even", parts: n } : { mode: "by_guest" };
      const r = await call("POST", `${tokenPath()}/invoices/${G.enc(inv.id)}/split`, { body });
      if (r.status === 410) return G.ended();
      if (!r.ok) { err.textContent = r.status === 0 ? t("guest.offline") : problemText(r); return; }
      G.closeSheet();
      if (r.data && r.data.id) invoices = invoices.map((i) => (i.id === r.data.id ? r.data : i));
      render();
      sync();
    } finally {
      ok.disabled = false;
    }
  });
  G.openSheet(form, null, "split");
}

// --- paying online --------------------------------------------------------------------------------
async function payOnline(inv, splitId, button) {
  button.disabled = true;
  try {
    const r = await moneyPost(`${tokenPath()}/invoices/${G.enc(inv.id)}/pay`, splitId ? { split_id: splitId } : {});
    if (r.status === 410) return G.ended();
    if (!r.ok) {
      if (r.code === "GATEWAY_DISABLED") { options.gateway_enabled = false; render(); }
      return G.toast(r.status === 0 ? t("guest.offline") : problemText(r));
    }
    // The payment stays pending until the provider's signed webhook confirms it; the
    // provider's own checkout (r.data.checkout) is where a real deployment takes over.
    G.toast(t("bill.pay_started"));
    sync();
  } finally {
    button.disabled = false;
  }
}
