// Servio guest app, the first paint (UI-01): joins the table (GET /t/{token} as JSON) and
// draws the lazily fetched menu (GET /g/{token}/menu) with the cart bar. Everything else —
// the live socket, the orders panel, adding, the cart drawer, sending through the offline
// queue and the service worker — is guest-order.js, imported once the menu is on screen.
const $ = (s) => document.querySelector(s);
const boot = JSON.parse($("#boot").textContent);
const TOKEN = boot.token;
const L = boot.labels;
const enc = encodeURIComponent;
const KEY = "servio.g." + TOKEN;
const QKEY = "servio.gq." + TOKEN;

const t = (key, vars) => {
  let s = L[key] || key;
  for (const k in vars || {}) s = s.replace("{" + k + "}", vars[k]);
  return s;
};

function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat(9)) if (c != null && c !== false) el.append(c.nodeType ? c : String(c));
  return el;
}

const SYM = { INR: "₹", USD: "$", EUR: "€", GBP: "£", JPY: "¥", THB: "฿", SGD: "S$", AUD: "A$", LKR: "Rs ", NPR: "Rs " };
const ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
const THREE = "BHD IQD JOD KWD LYD OMR TND";

// Like kit/money.format_money: ₹1,23,456.78 (Indian grouping for INR), $123,456.78.
function money(minor, cur) {
  cur = cur || G.cur || "INR";
  const places = ZERO.includes(cur) ? 0 : THREE.includes(cur) ? 3 : 2;
  const abs = Math.abs(minor);
  let whole = String(Math.floor(abs / 10 ** places));
  whole = whole.replace(cur === "INR" ? /\B(?=(\d{2})*\d{3}$)/g : /\B(?=(\d{3})+$)/g, ",");
  const frac = places ? "." + String(abs % 10 ** places).padStart(places, "0") : "";
  return (minor < 0 ? "-" : "") + (SYM[cur] || cur + " ") + whole + frac;
}

async function api(method, path, { body, auth, headers } = {}) {
  const hd = { Accept: "application/json", ...headers };
  if (body !== undefined) hd["Content-Type"] = "application/json";
  if (auth) hd.Authorization = "Bearer " + auth;
  const r = await fetch(path, {
    method,
    headers: hd,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: path.startsWith("/g/") ? "default" : "no-store",
  });
  let data = null;
  try { data = await r.json(); } catch { /* empty body */ }
  return { status: r.status, ok: r.ok, data, code: (data && data.code) || "" };
}

function read(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch { return fallback; }
}
function write(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ }
}

// Shared state; guest-order.js gets this object from init(G).
const G = {
  token: TOKEN, L, t, h, $, api, money, enc, sw: boot.sw,
  seq: 0, sid: null, gtoken: null, mtoken: null, memberId: null, nickname: null,
  cur: null, session: null, cart: null, items: new Map(), orders: new Map(),
  pass: { required: false, ok: true }, fb: [], queue: read(QKEY, []),
  save() {
    write(KEY, { sid: G.sid, gtoken: G.gtoken, mtoken: G.mtoken, memberId: G.memberId, nickname: G.nickname, fb: G.fb });
  },
  saveQueue() { write(QKEY, G.queue); },
};

let orderModule, billModule;
G.order = () => (orderModule ||= import(boot.order_js).then((m) => (m.init(G), m)));
G.bill = () => (billModule ||= import(boot.bill_js).then((m) => (m.init(G, boot.bill_css), m)));

let toastTimer;
G.toast = (msg) => {
  const el = $("#toast");
  el.textContent = msg;
  el.classList.add("on");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("on"), 3500);
};

G.conn = (text) => {
  const el = $("#conn");
  el.textContent = text || "";
  el.hidden = !text;
};

// --- sheets (the item sheet, nickname prompt, cart drawer and pass modal use one) -------
let onSheetClose = null;
G.openSheet = (content, onClose, kind) => {
  const wrap = $("#sheet");
  wrap.firstElementChild.replaceChildren(content);
  wrap.hidden = false;
  wrap.dataset.kind = kind || "";
  onSheetClose = onClose || null;
};
G.closeSheet = () => {
  const wrap = $("#sheet");
  if (wrap.hidden) return;
  wrap.hidden = true;
  wrap.dataset.kind = "";
  wrap.firstElementChild.replaceChildren();
  const done = onSheetClose;
  onSheetClose = null;
  if (done) done();
};
$("#sheet").addEventListener("click", (e) => { if (e.target.id === "sheet") G.closeSheet(); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape") G.closeSheet(); });

// --- full-screen states ------------------------------------------------------------------
function screen(title, text, button) {
  const el = $("#screen");
  el.replaceChildren(...[h("h2", {}, title), text && h("p", {}, text), button].filter(Boolean));
  el.hidden = false;
}
const reloadButton = (label) => h("button", { class: "btn btn-main", type: "button", onclick: () => location.reload() }, label);

G.ended = () => {
  G.stopped = true;
  if (G.stopLive) G.stopLive();
  G.closeSheet();
  G.queue = G.queue.filter((e) => e.sid !== G.sid);
  G.saveQueue();
  try { localStorage.removeItem(KEY); } catch { /* ignore */ }
  screen(L["session.ended"], t("guest.ended.text"));
};

function when(iso) {
  const d = new Date(iso);
  const timeZone = G.tz || undefined; // the outlet's, from the menu
  return isNaN(d) ? iso : d.toLocaleString(document.documentElement.lang, { weekday: "short", hour: "2-digit", minute: "2-digit", timeZone });
}

function problemScreen(r) {
  G.stopped = true;
  const d = r.data || {};
  if (r.status === 404) screen(t("guest.not_found.title"), t("guest.not_found.text"));
  else if (r.status === 410) G.ended();
  else if (r.status === 423) screen(t("guest.disabled.title"), t("guest.disabled.text"));
  else if (r.code === "OUTLET_CLOSED") {
    screen(L["outlet.closed"], d.next_opening ? t("guest.closed.next", { time: when(d.next_opening) }) : "");
  } else {
    G.stopped = false;
    screen(t("guest.error.generic"), d.detail || "", reloadButton(L["action.retry"]));
  }
}

// --- the session ------------------------------------------------------------------------
function applySession(s) {
  G.session = s;
  if (s.outlet) {
    G.cur = s.outlet.currency;
    G.tz = s.outlet.timezone;
    $("#outlet").textContent = s.outlet.name;
  }
  if (s.table) $("#table").textContent = t("service_point." + s.table.kind, { label: s.table.label });
  if ("daily_pass_required" in s) G.pass = { required: !!s.daily_pass_required, ok: !!s.pass_validated };
  if (G.memberId && s.members && !s.members.some((m) => m.member_id === G.memberId)) {
    G.mtoken = G.memberId = G.nickname = null;
    G.save();
  }
  if (s.cart) G.setCart(s.cart);
  if (s.orders) {
    G.orders = new Map(s.orders.map((o) => [o.order_id, { ...o, seen: Date.now() }]));
    if (G.renderOrders) G.renderOrders();
  }
  if (s.payment_status && s.payment_status !== "unpaid") G.bill().then((m) => m.sync());
}

function applyJoin(s, saved) {
  G.sid = s.session_id;
  G.gtoken = s.guest_token;
  if (saved.sid === s.session_id) {
    ({ mtoken: G.mtoken, memberId: G.memberId, nickname: G.nickname } = saved);
    G.fb = saved.fb || [];
  } else {
    G.mtoken = G.memberId = G.nickname = null;
  }
  G.save();
  applySession(s);
  if (s.session_state === "stale") {
    screen(t("guest.stale.title"), t("guest.stale.text"), h("button", { class: "btn btn-main", type: "button", onclick: startNew }, t("guest.stale.start")));
  }
}

async function startNew(e) {
  e.target.disabled = true;
  let r;
  try { r = await api("POST", `/session/${enc(G.sid)}/start_new`, { auth: G.gtoken }); } catch { r = { status: 0 }; }
  if (r.ok && r.data.session_id) {
    $("#screen").hidden = true;
    applyJoin(r.data, {});
    if (G.reconnect) G.reconnect();
  } else if (r.code === "SESSION_NOT_STALE") {
    $("#screen").hidden = true;
  } else {
    e.target.disabled = false;
    G.toast(t("guest.error.generic"));
  }
}

G.join = async function join(later) {
  const saved = read(KEY, {});
  let r;
  try { r = await api("GET", "/t/" + enc(TOKEN)); } catch {
    if (!saved.sid) return screen(t("guest.offline"), "", reloadButton(L["action.retry"])), false;
    Object.assign(G, { sid: saved.sid, gtoken: saved.gtoken, mtoken: saved.mtoken, memberId: saved.memberId, nickname: saved.nickname });
    G.conn(t("guest.offline"));
    return true;
  }
  if (r.status === 200 || r.status === 201) return applyJoin(r.data, saved), true;
  if (later) G.failure = r;
  else problemScreen(r);
  return false;
};

// A full re-read after every (re)connect: nothing missed while offline stays missed.
// `G.seq` counts live messages: a read that a newer message overtook is read again.
G.reread = async () => {
  const seq = G.seq;
  let r;
  try { r = await api("GET", `/session/${enc(G.sid)}`, { auth: G.mtoken || G.gtoken }); } catch { return; }
  if (r.status === 410) return G.ended();
  if (G.seq !== seq) return G.reread();
  if (r.ok && r.data && r.data.session_id) return applySession(r.data);
  try { r = await api("GET", "/t/" + enc(TOKEN)); } catch { return; }
  if (!r.ok) return problemScreen(r);
  if (r.data.session_id !== G.sid) return G.ended();
  G.gtoken = r.data.guest_token;
  G.save();
  applySession(r.data);
};

// --- the menu ---------------------------------------------------------------------------
function itemCard(item) {
  const off = !item.is_available;
  const tags = [...item.dietary.map((d) => h("span", { class: "tag " + d }, L["dietary." + d] || d))];
  if (off) tags.push(h("span", { class: "tag off" }, L["item.out_of_stock"]));
  return h("article", { class: "item" + (off ? " off" : ""), "data-item-id": item.id },
    item.image_url ? h("img", { src: item.image_url, alt: "", loading: "lazy", width: 80, height: 80 }) : null,
    h("div", { class: "info", onclick: () => off || G.order().then((m) => m.openItem(item)) },
      h("h3", {}, item.name),
      item.description ? h("p", {}, item.description) : null,
      h("div", { class: "tags" }, tags),
      h("div", { class: "price" }, money(item.price, item.currency))),
    h("button", { class: "btn add", type: "button", disabled: off, "aria-label": `${L["action.add"]} ${item.name}`,
      onclick: () => G.order().then((m) => m.quickAdd(item)) }, L["action.add"]));
}

function renderMenu(menu) {
  Object.assign(L, menu.labels || {});
  G.cur = G.cur || menu.outlet.currency;
  G.tz = menu.outlet.timezone;
  if (!$("#outlet").textContent.trim()) $("#outlet").textContent = menu.outlet.name;
  if (!$("#table").textContent.trim() && menu.service_point) {
    $("#table").textContent = t("service_point." + menu.service_point.kind, { label: menu.service_point.label });
  }
  const nav = $("#cats");
  const el = $("#menu");
  nav.replaceChildren();
  el.replaceChildren();
  for (const cat of menu.categories) {
    nav.append(h("a", { href: "#c-" + cat.id }, cat.name));
    el.append(h("section", { class: "cat", id: "c-" + cat.id }, h("h2", {}, cat.name), cat.items.map((i) => (G.items.set(i.id, i), itemCard(i)))));
  }
  if (!menu.categories.length) el.append(h("p", { class: "muted" }, L["menu.no_results"]));
  el.removeAttribute("aria-busy");
}

async function loadMenu() {
  let r;
  try { r = await api("GET", `/g/${enc(TOKEN)}/menu`); } catch { r = null; }
  if (r && r.ok) return renderMenu(r.data);
  if (r && r.status !== 429 && r.status < 500) return; // the session answer explains it
  $("#menu").replaceChildren(h("p", { class: "muted" }, t("guest.error.generic")), reloadButton(L["action.retry"]));
}

// --- cart bar and orders ----------------------------------------------------------------
G.setCart = (cart) => {
  G.cart = cart;
  const n = cart.item_count || 0;
  const btn = $("#cart-btn");
  btn.disabled = n === 0;
  $("#cart-label").textContent = n ? `${L["action.view_cart"]} (${n})` : L["cart.empty"];
  $("#cart-total").textContent = n ? money(cart.subtotal, cart.currency) : "";
  if (G.onCart) G.onCart();
};
$("#cart-btn").addEventListener("click", () => G.order().then((m) => m.openCart()));

// --- start --------------------------------------------------------------------------------
async function start() {
  const menu = loadMenu();
  const joined = await G.join(true);
  await menu; // the outlet's time zone, for "opens again at"
  if (joined) G.order().then((m) => m.live());
  else if (G.failure) problemScreen(G.failure);
}
start();
