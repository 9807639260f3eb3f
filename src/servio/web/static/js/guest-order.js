// Servio guest app, imported by guest.js once the menu is on screen (not part of the first
// paint): the live socket and the orders panel (with the thumbs and the one-time 0–10
// question once an order is served, and the WhatsApp updates opt-in), the nickname
// prompt, the item sheet (modifiers and a note), the table's cart drawer, the daily-pass modal, sending orders
// through an offline queue (BEY-03: a dropped connection retries with the SAME order_id and
// Idempotency-Key, on `online`, on reload and on a back-off timer) and the service worker.
let G, t, h, L;

export function init(g) {
  G = g;
  ({ t, h, L } = g);
  G.onCart = () => { if ($sheetKind() === "cart") renderCart(); };
  G.renderOrders = renderOrders;
  G.upsertOrder = upsertOrder;
  G.reconnect = () => connect(true);
  G.stopLive = () => { clearTimeout(wsTimer); if (ws) { ws.onclose = null; ws.close(); } };
}

export function live() {
  renderOrders();
  connect();
  if (G.queue.some((e) => e.sid === G.sid)) flush();
  if ("serviceWorker" in navigator && G.sw) navigator.serviceWorker.register(G.sw, { scope: "/t/" }).catch(() => {});
}

const $sheetKind = () => G.$("#sheet").dataset.kind;
const problemText = (r) => (r.data && (r.data.detail || r.data.title)) || t("guest.error.generic");

// --- orders panel ---------------------------------------------------------------------------
function mmss(secs) {
  const s = Math.max(0, Math.round(secs));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}

function statusLine(o) {
  const ticket = o.ticket_no ? t("guest.status.ticket", { no: o.ticket_no }) : "";
  switch (o.status) {
    case "pending":
    case "in_queue":
      if (o.fired === "acked" || o.ticket_no) return ticket || L["order.status.in_queue"];
      return o.fired === "retrying" || o.delayed ? L["order.checking_kitchen"] : t("guest.status.sending");
    case "in_progress": return t("guest.status.cooking");
    default: return L["order.status." + o.status] || o.status;
  }
}

function renderOrders() {
  const list = G.$("#order-list");
  const rows = G.queue.filter((e) => e.sid === G.sid).map((e) =>
    h("li", { class: "order wait", "data-order-id": e.order_id },
      h("b", {}, e.state === "wait" ? t("guest.status.waiting") : t("guest.status.sending"))));
  for (const o of G.orders.values()) {
    const main = statusLine(o);
    const ticket = o.ticket_no ? t("guest.status.ticket", { no: o.ticket_no }) : "";
    const dishes = (o.lines || []).map((l) => `${l.qty} × ${l.name}`).join(", ");
    const info = [main === ticket ? "" : ticket, dishes, o.subtotal != null ? G.money(o.subtotal, o.currency) : ""].filter(Boolean).join(" · ");
    const eta = o.eta_secs != null && ["pending", "in_queue", "in_progress"].includes(o.status) ? o.seen + o.eta_secs * 1000 : 0;
    rows.push(h("li", { class: "order", "data-order-id": o.order_id, "data-status": o.status },
      h("b", {}, main),
      info ? h("span", { class: "muted" }, info) : null,
      eta ? h("span", { class: "muted eta", "data-until": eta }, " · " + t("guest.status.ready_in", { time: mmss((eta - Date.now()) / 1000) })) : null,
      o.status === "served" ? feedbackRow(o) : null));
  }
  list.replaceChildren(...rows);
  G.$("#orders").hidden = rows.length === 0;
  billButton();
  updatesRow();
  npsRow();
}

// --- WhatsApp order updates (GUEST-11), under the orders when the outlet sends them --------
// The box sits beside the list, so a live re-render keeps a half-typed number; the member's
// choice is read once (the reply names the number by its last digits only).
let waBox = null;
let wa = null; // { who, whatsapp, phone_hint }

function updatesRow() {
  const who = G.sid + ":" + G.memberId;
  const show = !!(G.session && G.session.whatsapp_updates_available && G.mtoken && G.orders.size);
  if (waBox && (!show || waBox.dataset.who !== who)) { waBox.remove(); waBox = null; }
  if (!show || waBox) return;
  waBox = h("div", { class: "updates", id: "wa-updates", "data-who": who });
  G.$("#bill-btn").after(waBox);
  if (wa && wa.who === who) return drawUpdates();
  wa = { who, whatsapp: false, phone_hint: null };
  drawUpdates();
  G.api("GET", `/session/${G.enc(G.sid)}/updates`, { auth: G.mtoken }).then((r) => {
    if (r.ok && wa.who === who) { Object.assign(wa, r.data); drawUpdates(); }
  }, () => {});
}

function drawUpdates(open) {
  if (!waBox) return;
  if (wa.whatsapp) {
    return waBox.replaceChildren(
      h("p", {}, t("updates.on", { phone: wa.phone_hint || "" })),
      h("p", { class: "muted" }, L["updates.when"]),
      h("button", { class: "btn bill-get", type: "button", onclick: (e) => saveUpdates("DELETE", null, e.currentTarget) }, L["updates.off"]));
  }
  if (!open) {
    return waBox.replaceChildren(h("button", { class: "btn bill-get", type: "button", onclick: () => drawUpdates(true) }, L["updates.get"]));
  }
  const input = h("input", { name: "phone", type: "tel", inputmode: "tel", autocomplete: "tel", maxlength: 32, placeholder: "+91 98765 43210", required: true });
  const err = h("p", { class: "err", role: "alert" });
  const save = h("button", { class: "btn btn-main", type: "submit" }, L["updates.save"]);
  const form = h("form", { novalidate: true },
    h("label", { class: "field" }, L["updates.phone"], input), err,
    h("div", { class: "acts" }, h("button", { class: "btn", type: "button", onclick: () => drawUpdates() }, t("guest.close")), save));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!input.value.trim()) { err.textContent = L["updates.invalid"]; return input.focus(); }
    saveUpdates("PUT", input.value, save, err);
  });
  waBox.replaceChildren(form);
  input.focus();
}

async function saveUpdates(method, phone, button, err) {
  button.disabled = true;
  let r;
  try {
    r = await G.api(method, `/session/${G.enc(G.sid)}/updates`, { auth: G.mtoken, body: phone == null ? undefined : { phone, whatsapp: true } });
  } catch { r = { status: 0 }; }
  button.disabled = false;
  if (r.status === 410) return G.ended();
  if (!r.ok) {
    const msg = r.code === "INVALID_PHONE" ? L["updates.invalid"] : r.status ? problemText(r) : t("guest.offline");
    return err ? (err.textContent = msg) : G.toast(msg);
  }
  Object.assign(wa, r.data);
  drawUpdates();
  G.toast(wa.whatsapp ? L["updates.saved"] : L["updates.stopped"]);
}

// "Get bill" under the orders once the table has ordered (guest-bill.js does the rest).
function billButton() {
  let b = G.$("#bill-btn");
  if (!b) {
    b = h("button", { class: "btn bill-get", id: "bill-btn", type: "button", onclick: () => G.bill().then((m) => m.ask()) }, L["action.get_bill"]);
    G.$("#order-list").after(b);
  }
  b.hidden = G.orders.size === 0;
}

function feedbackRow(o) {
  if (G.fb.includes(o.order_id)) return h("div", { class: "thumbs muted" }, t("guest.feedback.thanks"));
  const send = (up) => feedback(o, up);
  return h("div", { class: "thumbs" }, h("span", {}, t("guest.feedback.question")),
    h("button", { class: "btn", type: "button", "aria-label": t("guest.feedback.up"), onclick: () => send(true) }, "👍"),
    h("button", { class: "btn", type: "button", "aria-label": t("guest.feedback.down"), onclick: () => send(false) }, "👎"));
}

setInterval(() => {
  for (const el of document.querySelectorAll(".eta")) {
    el.textContent = " · " + t("guest.status.ready_in", { time: mmss((+el.dataset.until - Date.now()) / 1000) });
  }
}, 1000);

function updateOrder(id, change) {
  const o = G.orders.get(id);
  if (!o) return G.reread();
  Object.assign(o, change);
  G.renderOrders();
}
function upsertOrder(o) {
  G.orders.set(o.order_id, { ...(G.orders.get(o.order_id) || {}), ...o, seen: Date.now() });
  renderOrders();
}

// --- the live socket: reconnects with back-off, re-reads everything on each `ready` --------------------------------------------------------------------
let ws = null;
let backoff = 1000;
let wsTimer = 0;

function onMessage(m) {
  const d = m.data || {};
  if (m.type !== "ready" && m.type !== "ping") G.seq++;
  switch (m.type) {
    case "ready": document.body.dataset.live = "1"; return G.reread();
    case "member_join":
      if (d.member_id !== G.memberId && d.nickname !== G.joining) G.toast(t("guest.joined", { name: d.nickname }));
      if (G.session && G.session.members && !G.session.members.some((x) => x.member_id === d.member_id)) G.session.members.push(d);
      return;
    case "cart_updated": return d.cart && G.setCart(d.cart);
    case "order_fired": return updateOrder(d.order_id, { ticket_no: d.ticket_no, fired: "acked", delayed: false });
    case "order_fire_delayed": return updateOrder(d.order_id, { delayed: true });
    case "order_status": return updateOrder(d.order_id, { status: d.status, eta_secs: d.eta_secs ?? null, seen: Date.now() });
    case "session_closed": return G.ended();
  }
}

function connect(now) {
  clearTimeout(wsTimer);
  if (G.stopped || !G.sid) return;
  if (ws && ws.readyState <= 1 && !now) return;
  if (ws) { ws.onclose = null; ws.close(); }
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const sock = new WebSocket(`${scheme}//${location.host}/ws?sess=${G.enc(G.sid)}&token=${G.enc(G.mtoken || G.gtoken)}`);
  ws = sock;
  sock.onopen = () => { backoff = 1000; G.conn(""); };
  sock.onmessage = (e) => { try { onMessage(JSON.parse(e.data)); } catch { /* not JSON */ } };
  sock.onclose = async (e) => {
    if (ws !== sock || G.stopped) return;
    delete document.body.dataset.live;
    if (e.code === 4410) return G.ended();
    G.conn(navigator.onLine ? t("guest.reconnecting") : t("guest.offline"));
    if (e.code === 4401) await G.join(); // the guest token changed: fetch a fresh one
    wsTimer = setTimeout(connect, backoff + Math.random() * 500);
    backoff = Math.min(backoff * 2, 30000);
  };
}

window.addEventListener("online", () => {
  G.conn(ws && ws.readyState === 1 ? "" : t("guest.reconnecting"));
  backoff = 1000;
  connect();
  retryDelay = 2000;
  flush();
});
window.addEventListener("offline", () => G.conn(t("guest.offline")));
document.addEventListener("visibilitychange", () => { if (!document.hidden) connect(); });

// --- ids ----------------------------------------------------------------------------------
const B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export function ulid(now = Date.now()) {
  let s = "";
  for (let i = 0, n = now; i < 10; i++, n = Math.floor(n / 32)) s = B32[n % 32] + s;
  for (const b of crypto.getRandomValues(new Uint8Array(16))) s += B32[b % 32];
  return s;
}
const hexKey = () => Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");

// --- small form helpers -------------------------------------------------------------------
function sheetForm(kind, title, parts, submitLabel, onSubmit, onClose) {
  const err = h("p", { class: "err", role: "alert" });
  const ok = h("button", { class: "btn btn-main", type: "submit" }, submitLabel);
  const form = h("form", { novalidate: true },
    h("h2", { id: "sheet-h" }, title), parts,
    err,
    h("div", { class: "acts" },
      h("button", { class: "btn", type: "button", onclick: () => G.closeSheet() }, t("guest.close")), ok));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    ok.disabled = true;
    try { await onSubmit(err); } catch { err.textContent = t("guest.error.generic"); } finally { ok.disabled = false; }
  });
  G.openSheet(form, onClose, kind);
  return form;
}

// --- nickname: nobody types until the first "Add" ------------------------------------------
export const member = () => ensureMember();
function ensureMember() {
  if (G.mtoken) return Promise.resolve(true);
  return new Promise((resolve) => {
    let done = false;
    const input = h("input", { id: "nickname", name: "nickname", maxlength: 24, autocomplete: "nickname", enterkeyhint: "go", required: true });
    sheetForm("nickname", t("guest.nickname.title"),
      [h("p", { class: "muted" }, t("guest.nickname.hint")), h("label", { class: "field" }, t("guest.nickname.label"), input)],
      t("guest.nickname.submit"),
      async (err) => {
        const nickname = input.value.trim();
        if (!nickname) { err.textContent = t("guest.nickname.title"); return input.focus(); }
        G.joining = nickname;
        const r = await G.api("POST", "/member", { body: { session_id: G.sid, nickname }, auth: G.gtoken });
        if (r.status === 410) return G.ended();
        if (!r.ok) { err.textContent = problemText(r); return; }
        Object.assign(G, { mtoken: r.data.member_token, memberId: r.data.member_id, nickname });
        G.save();
        done = true;
        G.closeSheet();
        G.reconnect();
        resolve(true);
      },
      () => done || resolve(false));
    input.focus();
  });
}

// --- the caller's own cart lines (PUT replaces them all) ------------------------------------
function myLines() {
  const me = ((G.cart && G.cart.members) || []).find((m) => m.member_id === G.memberId);
  return ((me && me.lines) || []).map((l) => ({
    menu_item_id: l.menu_item_id, qty: l.qty, note: l.note || "", modifiers: (l.modifiers || []).map((m) => m.id),
  }));
}

let chain = Promise.resolve();
function putCart(change) {
  // One PUT at a time, each built from the newest cart, so quick taps never drop a line.
  const run = async () => {
    const lines = change(myLines()).filter((l) => l.qty > 0)
      .map((l) => ({ menu_item_id: l.menu_item_id, qty: l.qty, ...(l.note ? { note: l.note } : {}), ...(l.modifiers.length ? { modifiers: l.modifiers } : {}) }));
    let r;
    try { r = await G.api("PUT", `/session/${G.enc(G.sid)}/cart`, { body: { items: lines }, auth: G.mtoken }); } catch { G.toast(t("guest.offline")); return false; }
    if (r.ok) { G.setCart(r.data.cart || r.data); return true; }
    if (r.status === 410) { G.ended(); return false; }
    if (r.status === 401) { G.mtoken = null; G.save(); }
    G.toast(r.code === "ITEM_UNAVAILABLE" ? t("guest.error.unavailable") : problemText(r));
    return false;
  };
  chain = chain.then(run, run);
  return chain;
}

const sameMods = (a, b) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

async function addLine(item, line) {
  if (!(await ensureMember())) return false;
  const ok = await putCart((lines) => {
    const same = lines.find((l) => l.menu_item_id === line.menu_item_id && l.note === line.note && sameMods(l.modifiers, line.modifiers));
    if (same) same.qty += line.qty;
    else lines.push(line);
    return lines;
  });
  if (ok) G.toast(t("guest.added", { name: item.name }));
  return ok;
}

export function quickAdd(item) {
  if ((item.modifier_groups || []).length) return openItem(item);
  return addLine(item, { menu_item_id: item.id, qty: 1, note: "", modifiers: [] });
}

// --- item sheet -----------------------------------------------------------------------------
export function openItem(item) {
  if (!item.is_available) return;
  let qty = 1;
  const groups = item.modifier_groups || [];
  const note = h("textarea", { name: "note", rows: 2, maxlength: 140, placeholder: t("guest.note.placeholder") });
  const qtyOut = h("output", {}, "1");
  const submit = () => form.querySelector("button[type=submit]");
  const chosen = () => [...form.querySelectorAll("input[data-mod]:checked")].map((i) => i.value);
  const price = () => {
    let unit = item.price;
    for (const g of groups) for (const m of g.modifiers) if (chosen().includes(m.id)) unit += m.price_delta;
    return unit * qty;
  };
  const refresh = () => { submit().textContent = t("guest.add_to_cart", { price: G.money(price(), item.currency) }); qtyOut.textContent = qty; };
  const step = (d) => h("button", { class: "btn", type: "button", "aria-label": d < 0 ? t("guest.cart.less") : t("guest.cart.more"),
    onclick: () => { qty = Math.max(1, Math.min(99, qty + d)); refresh(); } }, d < 0 ? "−" : "+");
  const fieldsets = groups.map((g) => {
    const single = g.max_select === 1 && g.required;
    const hint = [g.required ? L["item.required"] : L["item.optional"], g.max_select > 1 ? t("item.choose_up_to", { max: g.max_select }) : ""].filter(Boolean).join(" · ");
    return h("fieldset", { "data-group": g.id },
      h("legend", {}, g.name), h("p", { class: "muted" }, hint),
      g.modifiers.map((m) => h("label", { class: "opt" },
        h("input", {
          type: single ? "radio" : "checkbox", name: "g-" + g.id, value: m.id, "data-mod": g.id, disabled: !m.is_available,
          onchange: (e) => {
            const on = form.querySelectorAll(`input[data-mod="${g.id}"]:checked`);
            if (!single && on.length > g.max_select) e.target.checked = false;
            form.querySelector(".err").textContent = "";
            refresh();
          },
        }),
        h("span", {}, m.name), m.price_delta ? h("span", { class: "muted" }, "+" + G.money(m.price_delta, item.currency)) : null)));
  });
  const form = sheetForm("item", item.name,
    [item.description ? h("p", { class: "muted" }, item.description) : null, fieldsets,
      h("label", { class: "field" }, t("guest.note"), note),
      h("div", { class: "field qty" }, step(-1), qtyOut, step(1))],
    "",
    async (err) => {
      for (const g of groups) {
        const n = form.querySelectorAll(`input[data-mod="${g.id}"]:checked`).length;
        const min = g.required ? Math.max(1, g.min_select) : g.min_select;
        if (n < min || n > g.max_select) {
          err.textContent = `${g.name}: ${n < min ? t("item.choose_at_least", { min }) : t("item.choose_up_to", { max: g.max_select })}`;
          return;
        }
      }
      if (await addLine(item, { menu_item_id: item.id, qty, note: note.value.trim(), modifiers: chosen() })) G.closeSheet();
    });
  refresh();
}

// --- the table's cart, grouped by nickname ---------------------------------------------------
function renderCart() {
  const cart = G.cart || { members: [], item_count: 0, subtotal: 0 };
  const parts = [h("h2", { id: "sheet-h" }, t("guest.cart.title"))];
  for (const m of cart.members || []) {
    if (!m.lines.length) continue;
    const mine = m.member_id === G.memberId;
    parts.push(h("div", { class: "who" }, mine ? `${m.nickname} (${t("guest.you")})` : m.nickname));
    m.lines.forEach((l, i) => {
      const extra = [(l.modifiers || []).map((x) => x.name).join(", "), l.note].filter(Boolean).join(" · ");
      parts.push(h("div", { class: "line" + (l.is_available === false ? " off" : ""), "data-member": m.nickname },
        h("div", {}, h("b", {}, `${l.qty} × ${l.name}`), extra ? h("div", { class: "muted" }, extra) : null,
          l.is_available === false ? h("div", { class: "err" }, L["item.out_of_stock"]) : null),
        mine ? h("div", { class: "qty" },
          h("button", { class: "btn", type: "button", "aria-label": t("guest.cart.less"), onclick: () => changeQty(i, -1) }, "−"),
          h("button", { class: "btn", type: "button", "aria-label": t("guest.cart.more"), onclick: () => changeQty(i, 1) }, "+")) : null,
        h("span", {}, G.money(l.line_total, cart.currency))));
    });
  }
  if (!cart.item_count) parts.push(h("p", { class: "muted" }, L["cart.empty"]));
  parts.push(h("div", { class: "sum" }, h("span", {}, L["cart.total"]), h("span", {}, G.money(cart.subtotal || 0, cart.currency))));
  parts.push(h("div", { class: "acts" },
    h("button", { class: "btn", type: "button", onclick: () => G.closeSheet() }, t("guest.close")),
    h("button", { class: "btn btn-main", type: "button", id: "send-order", disabled: !cart.item_count, onclick: send }, L["action.send_order"])));
  const box = h("div", {}, parts);
  if ($sheetKind() === "cart") G.$("#sheet").firstElementChild.replaceChildren(box);
  else G.openSheet(box, null, "cart");
}
export const openCart = renderCart;

function changeQty(index, delta) {
  putCart((lines) => { if (lines[index]) lines[index].qty += delta; return lines; });
}

// --- daily pass --------------------------------------------------------------------------------
function askPass() {
  return new Promise((resolve) => {
    let done = false;
    const input = h("input", { id: "pass-word", name: "word", autocomplete: "off", autocapitalize: "none", required: true });
    sheetForm("pass", t("guest.pass.title"), [h("p", { class: "muted" }, t("guest.pass.text")), h("label", { class: "field" }, t("guest.pass.title"), input)],
      L["action.send_order"],
      async (err) => {
        const r = await G.api("POST", `/session/${G.enc(G.sid)}/validate_pass`, { body: { word: input.value.trim() }, auth: G.mtoken || G.gtoken });
        if (r.status === 410) return G.ended();
        if (r.ok) { G.pass.ok = true; done = true; G.closeSheet(); return resolve(true); }
        err.textContent = r.status === 429 ? t("guest.pass.too_many") : r.status === 403 ? t("guest.pass.invalid") : problemText(r);
      },
      () => done || resolve(false));
    input.focus();
  });
}

// --- sending: the offline queue ----------------------------------------------------------------
async function send() {
  if (!(await ensureMember())) return;
  if (G.pass.required && !G.pass.ok && !(await askPass())) return;
  await chain; // the last cart change first
  G.queue.push({ order_id: ulid(), key: hexKey(), sid: G.sid, state: "sending" });
  G.saveQueue();
  G.closeSheet();
  G.renderOrders();
  flush();
}

let flushing = false;
let retryTimer = 0;
let retryDelay = 2000;

function later() {
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flush, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 60000);
}

function finish(entry) {
  G.queue = G.queue.filter((e) => e.order_id !== entry.order_id);
  G.saveQueue();
}

export async function flush() {
  if (flushing) return;
  if (navigator.onLine) retryDelay = Math.min(retryDelay, 4000);
  flushing = true;
  clearTimeout(retryTimer);
  try {
    for (const entry of G.queue.filter((e) => e.sid === G.sid)) {
      entry.state = "sending";
      G.renderOrders();
      let r;
      try {
        r = await G.api("POST", "/orders", {
          body: { session_id: entry.sid, order_id: entry.order_id }, auth: G.mtoken, headers: { "Idempotency-Key": entry.key },
        });
      } catch {
        entry.state = "wait";
        G.saveQueue();
        later();
        break;
      }
      if (r.ok) {
        finish(entry);
        retryDelay = 2000;
        upsertOrder({ currency: G.cur, ...r.data });
        G.reread(); // the order's lines and totals, and the emptied cart
        continue;
      }
      if (r.status >= 500 || r.status === 429 || r.status === 408 || r.code === "IDEMPOTENCY_IN_FLIGHT") {
        entry.state = "wait";
        later();
        break;
      }
      finish(entry); // a final answer: the server will never take this one
      if (r.status === 410) return G.ended();
      if (r.code === "PASS_REQUIRED") G.pass.ok = false;
      G.toast(r.code === "PASS_REQUIRED" ? t("guest.pass.text") : r.code === "CART_EMPTY" ? L["cart.empty"]
        : r.code === "ITEM_UNAVAILABLE" ? t("guest.error.unavailable") : problemText(r));
      G.reread();
    }
  } finally {
    flushing = false;
    G.renderOrders();
  }
}

// --- feedback -------------------------------------------------------------------------------------
export async function feedback(order, up) {
  if (!(await ensureMember())) return; // feedback is a member's, like the cart
  let r;
  try {
    r = await G.api("POST", "/feedback", { body: { kind: "thumbs", thumbs_up: up, order_id: order.order_id }, auth: G.mtoken });
  } catch { return G.toast(t("guest.offline")); }
  if (r.status === 410) return G.ended();
  if (!r.ok && r.status !== 409) return G.toast(problemText(r));
  G.fb.push(order.order_id);
  G.save();
  G.toast(t("guest.feedback.thanks"));
  G.renderOrders();
}

// --- the 0–10 question (GUEST-10): once per guest and visit, after an order is served --------
// It lives beside the order list, not in it, so a live re-render keeps the chosen score and a
// half-typed comment. Answered (or already answered, 409) → remembered in G.fb like thumbs.
let npsBox = null;
const npsKey = () => "nps:" + G.sid;

function npsRow() {
  const served = [...G.orders.values()].some((o) => o.status === "served" || o.status === "completed");
  const ask = served && !G.fb.includes(npsKey());
  if (npsBox && (!ask || npsBox.dataset.sid !== G.sid)) { npsBox.remove(); npsBox = null; }
  if (ask && !npsBox) G.$("#orders").append((npsBox = npsForm()));
}

function npsForm() {
  let score = null;
  const err = h("p", { class: "err", role: "alert" });
  const comment = h("textarea", { name: "comment", rows: 2, maxlength: 500 });
  const send = h("button", { class: "btn btn-main", type: "submit" }, t("guest.nps.send"));
  const more = h("div", { hidden: true }, h("label", { class: "field" }, t("guest.nps.comment"), comment), err, h("div", { class: "acts" }, send));
  const scale = h("div", { class: "thumbs nps", role: "group", "aria-labelledby": "nps-q", "aria-describedby": "nps-h" },
    Array.from({ length: 11 }, (_, n) => h("button", { class: "btn", type: "button", "aria-pressed": "false", "data-score": n, onclick: (e) => {
      score = n;
      for (const b of scale.children) b.setAttribute("aria-pressed", String(b === e.currentTarget));
      more.hidden = false;
    } }, String(n))));
  const form = h("form", { class: "order nps-box", novalidate: true, "data-sid": G.sid },
    h("b", { id: "nps-q" }, t("guest.nps.question")), h("span", { class: "muted", id: "nps-h" }, t("guest.nps.scale")), scale, more);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (score == null) return;
    err.textContent = "";
    send.disabled = true;
    try { await sendNps(score, comment.value.trim(), err); } finally { send.disabled = false; }
  });
  return form;
}

async function sendNps(score, comment, err) {
  if (!(await ensureMember())) return;
  let r;
  try {
    r = await G.api("POST", "/feedback", { body: { kind: "nps", score, ...(comment ? { comment } : {}) }, auth: G.mtoken });
  } catch { err.textContent = t("guest.offline"); return; }
  if (r.status === 410) return G.ended();
  if (!r.ok && r.code !== "FEEDBACK_EXISTS") { err.textContent = problemText(r); return; }
  G.fb.push(npsKey());
  G.save();
  G.toast(t("guest.feedback.thanks"));
  npsRow();
}
