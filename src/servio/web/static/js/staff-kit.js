/* What the staff screens (grid `staff.js`, kitchen display `kds.js`, POS `pos.js`, bills
   `bills.js`, cash drawer `cash.js`) share: DOM and JSON-API helpers, money in minor units,
   clock times on the outlet's zone, idempotent money POSTs, and the reconnect machinery of a live socket (jittered back-off,
   heartbeat watchdog, following the page through hide/show and the page cache).

   Loaded (deferred) after servio.js and before the page script, as `window.ServioStaff`. */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /* A JSON API call through Servio.request (cookie + CSRF header). Resolves, never rejects,
     with {ok, status, data}; `options.headers` adds headers, `options.onResponse(response)`
     sees every response that arrived. */
  function api(method, url, body, options) {
    var o = options || {};
    var opts = { method: method, headers: o.headers || {} };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return window.Servio.request(url, opts).then(
      function (response) {
        if (o.onResponse) o.onResponse(response);
        var type = response.headers.get("content-type") || "";
        var parse = type.indexOf("json") !== -1 ? response.json().catch(function () { return null; }) : Promise.resolve(null);
        return parse.then(function (data) {
          return { ok: response.ok, status: response.status, data: data };
        });
      },
      function () {
        return { ok: false, status: 0, data: { detail: "The server could not be reached" } };
      }
    );
  }

  /* A problem+json answer as one sentence ("Detail. Hint."), else the fallback. */
  function problemText(result, fallback) {
    var d = result.data || {};
    var text = [d.detail, d.hint].filter(Boolean).join(". ");
    return text ? text.charAt(0).toUpperCase() + text.slice(1) + "." : fallback;
  }

  /* Screen readers hear what changed, not the whole screen again. */
  function announce(regionId, message) {
    var region = document.getElementById(regionId);
    if (!region || !message) return;
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  /* Show (or, with no message, hide) a notice box holding a [data-notice-text] element. */
  function notice(boxId, message) {
    var box = document.getElementById(boxId);
    if (!box) return;
    box.querySelector("[data-notice-text]").textContent = message || "";
    box.hidden = !message;
  }

  function parseTime(value) {
    if (!value) return null;
    var t = Date.parse(value);
    return isNaN(t) ? null : t;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /* A list answer: a bare array or a page `{items: [...]}`; [] when neither. */
  function items(result) {
    var d = result.data;
    return Array.isArray(d) ? d : (d && d.items) || [];
  }

  /* Hours and minutes on the outlet's clock (`timeZone`, an IANA name), or on the browser's
     when the zone is missing or unknown; "" when `value` is not a time. */
  var clockFormats = {};
  function clock(value, timeZone) {
    var t = parseTime(value);
    if (t === null) return "";
    var key = timeZone || "";
    if (!clockFormats[key]) {
      var options = { hour: "2-digit", minute: "2-digit" };
      try {
        clockFormats[key] = new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: timeZone }, options));
      } catch (e) {
        clockFormats[key] = new Intl.DateTimeFormat(undefined, options);
      }
    }
    return clockFormats[key].format(new Date(t));
  }

  /* ---- money: integer minor units ↔ text ---- */

  var ZERO = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF";
  var THREE = "BHD IQD JOD KWD LYD OMR TND";
  function places(currency) {
    return ZERO.indexOf(currency) !== -1 ? 0 : THREE.indexOf(currency) !== -1 ? 3 : 2;
  }

  /* 125050, "INR" → "₹1,250.50"; `blank` (default "") when there is no amount. */
  var moneyFormats = {};
  function formatMoney(minor, currency, blank) {
    if (minor === null || minor === undefined) return blank === undefined ? "" : blank;
    if (!moneyFormats[currency]) {
      moneyFormats[currency] = new Intl.NumberFormat(currency === "INR" ? "en-IN" : undefined, { style: "currency", currency: currency });
    }
    return moneyFormats[currency].format(minor / Math.pow(10, places(currency)));
  }

  /* "1,250.5" → 125050 (minor units), or null when it is not an amount of `currency`. */
  function parseMoney(text, currency) {
    var s = String(text || "").replace(/[,\s₹$€£]/g, "");
    if (!/^\d+(\.\d*)?$/.test(s)) return null;
    var p = places(currency);
    var parts = s.split(".");
    if ((parts[1] || "").length > p && /[1-9]/.test(parts[1].slice(p))) return null;
    var frac = (parts[1] || "").slice(0, p);
    while (frac.length < p) frac += "0";
    return parseInt(parts[0], 10) * Math.pow(10, p) + (p ? parseInt(frac || "0", 10) : 0);
  }

  /* 125050 → "1250.50": an amount as a form field holds it. */
  function plainMoney(minor, currency) {
    var p = places(currency);
    return p ? (minor / Math.pow(10, p)).toFixed(p) : String(minor);
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  /* A money POST. The same request (url + body) keeps its Idempotency-Key until the server
     gives a final answer; a network failure, 5xx, 429 or "still in flight" keeps it for the
     retry (the server then replays the first answer instead of charging again). */
  var pendingKeys = {};
  function moneyPost(url, body) {
    var fp = url + " " + JSON.stringify(body);
    if (!pendingKeys[fp]) pendingKeys[fp] = newKey();
    return api("POST", url, body, { headers: { "Idempotency-Key": pendingKeys[fp] } }).then(function (result) {
      var code = (result.data && result.data.code) || "";
      var retryable = result.status === 0 || result.status >= 500 || result.status === 429 || code === "IDEMPOTENCY_IN_FLIGHT";
      if (!retryable) delete pendingKeys[fp];
      return result;
    });
  }

  /* The approval token in a `POST /api/v1/approvals/verify_pin` answer ("" when none). */
  function approvalToken(data) {
    return (data && data.approval_token) || "";
  }

  /* A message off a socket or event stream, or null when it is not JSON. */
  function parseMessage(event) {
    try {
      return JSON.parse(event.data);
    } catch (e) {
      return null;
    }
  }

  /* The reconnect state of one live link. options: backoffMs (delays, the last repeats),
     connect() (opens the link again), setConn(state) (shows the link's state). The page's
     socket lives in `link.socket`; `link.stopped` ends all reconnecting. */
  function Link(options) {
    this.backoffMs = options.backoffMs;
    this.connect = options.connect;
    this.setConn = options.setConn;
    this.socket = null;
    this.attempts = 0;
    this.reconnectTimer = null;
    this.watchdog = null;
    this.heartbeatMs = 25000;
    this.stopped = false;
  }

  Link.prototype.backoff = function () {
    var base = this.backoffMs[Math.min(this.attempts, this.backoffMs.length - 1)];
    this.attempts += 1;
    return base / 2 + Math.random() * (base / 2); // jitter: screens do not reconnect in step
  };

  Link.prototype.scheduleReconnect = function () {
    var link = this;
    if (link.stopped || link.reconnectTimer) return;
    link.setConn("reconnecting");
    link.reconnectTimer = window.setTimeout(function () {
      link.reconnectTimer = null;
      link.connect();
    }, link.backoff());
  };

  /* No message for a few heartbeats: the link is dead even if the socket has not noticed. */
  Link.prototype.feedWatchdog = function () {
    var link = this;
    window.clearTimeout(link.watchdog);
    link.watchdog = window.setTimeout(function () {
      if (link.socket) link.socket.close();
    }, link.heartbeatMs * 2.5);
  };

  /* A socket message arrived: `ready` resets the back-off and carries the heartbeat. */
  Link.prototype.noteSocketMessage = function (message) {
    if (message.type === "ready") {
      this.attempts = 0;
      if (message.data && message.data.heartbeat_secs) this.heartbeatMs = message.data.heartbeat_secs * 1000;
    }
    this.feedWatchdog();
  };

  /* The socket closed: forget it and its watchdog. */
  Link.prototype.socketClosed = function () {
    window.clearTimeout(this.watchdog);
    this.socket = null;
  };

  /* Follow the page: re-read (and reconnect if idle) when it is shown again, stop when it is
     hidden for good, start again when it comes back from the page cache. options: reload(),
     mayConnect() (extra condition for reconnecting on show), onHide() (close other links). */
  Link.prototype.followPage = function (options) {
    var link = this;
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && !link.stopped) {
        options.reload();
        if (!link.socket && !link.reconnectTimer && (!options.mayConnect || options.mayConnect())) link.connect();
      }
    });
    window.addEventListener("pagehide", function () {
      link.stopped = true;
      window.clearTimeout(link.reconnectTimer);
      link.reconnectTimer = null;
      if (link.socket) link.socket.close(1000);
      if (options.onHide) options.onHide();
    });
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return; // back from the page cache: live again
      link.stopped = false;
      options.reload();
      link.connect();
    });
  };

  /* Run `start` once the DOM is there. */
  function onReady(start) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
    else start();
  }

  window.ServioStaff = {
    el: el,
    api: api,
    problemText: problemText,
    announce: announce,
    notice: notice,
    parseTime: parseTime,
    pad: pad,
    items: items,
    clock: clock,
    formatMoney: formatMoney,
    parseMoney: parseMoney,
    plainMoney: plainMoney,
    moneyPost: moneyPost,
    approvalToken: approvalToken,
    parseMessage: parseMessage,
    Link: Link,
    onReady: onReady,
  };
})();
