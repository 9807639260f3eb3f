/* Servio pages: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  /* `__Host-servio_csrf` over HTTPS, `servio_csrf` in local development. */
  var CSRF_COOKIES = ["__Host-servio_csrf", "servio_csrf"];
  var CSRF_HEADER = "X-CSRF-Token";

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }

  /* Double-submit CSRF: the readable cookie goes back as a header on unsafe requests. */
  function csrfToken() {
    return readCookie(CSRF_COOKIES[0]) || readCookie(CSRF_COOKIES[1]);
  }

  function request(url, options) {
    var opts = options || {};
    var method = (opts.method || "GET").toUpperCase();
    var headers = new Headers(opts.headers || {});
    if (method !== "GET" && method !== "HEAD" && csrfToken()) headers.set(CSRF_HEADER, csrfToken());
    if (!headers.has("Accept")) headers.set("Accept", "application/json");
    opts.headers = headers;
    opts.credentials = "same-origin";
    return fetch(url, opts);
  }

  /* Announce a short message in the polite live region. */
  function toast(message, timeoutMs) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var item = document.createElement("div");
    item.className = "toast";
    item.setAttribute("role", "status");
    item.textContent = message;
    region.appendChild(item);
    window.setTimeout(function () {
      item.remove();
    }, timeoutMs || 5000);
  }

  /* htmx (when a page adds it) sends the CSRF header too. */
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) event.detail.headers[CSRF_HEADER] = token;
  });

  /* Forms marked data-submit-once cannot be sent twice by a double tap. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-submit-once")) return;
    if (form.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      return;
    }
    form.setAttribute("aria-busy", "true");
    var buttons = form.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) {
      var label = buttons[i].getAttribute("data-busy-label");
      if (label) buttons[i].textContent = label;
      buttons[i].setAttribute("aria-disabled", "true");
    }
  });

  /* Move focus to the first error summary so screen readers hear it at once. */
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-focus-on-load]");
    if (summary) summary.focus();
  });

  window.Servio = { csrfToken: csrfToken, request: request, toast: toast };
})();
