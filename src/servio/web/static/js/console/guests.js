/* Guest feedback and the daily pass: the DAILY_PASS flag and the `daily_pass_required`
   setting as switches, the current word's validity window, "Pick a new word now" (the word is
   shown once in the page and kept nowhere else), the feedback summary for a date range and
   the feedback list, page by page. Guest comments only ever go in as text. */
(function () {
  "use strict";

  var C = window.ServioConsole;
  var el = C.el;
  var FLAG = "DAILY_PASS";
  var SETTING = "daily_pass_required";
  var PAGE_SIZE = 20;
  var CONFIRM_MS = 5000;

  var app;
  var timeZone;
  var canFlag = false;
  var canRotate = false;
  var pass = { flag: false, required: false, validFrom: null, validUntil: null };
  var nextCursor = null;

  /* ---- text ---- */

  var showError = C.showError;
  var hideError = C.hideError;

  var formats = {};
  function format(options) {
    var key = JSON.stringify(options);
    if (!formats[key]) {
      try {
        formats[key] = new Intl.DateTimeFormat(undefined, Object.assign({ timeZone: timeZone }, options));
      } catch (error) {
        formats[key] = new Intl.DateTimeFormat(undefined, options); // an unknown zone: the browser's
      }
    }
    return formats[key];
  }

  function when(iso) {
    var date = new Date(iso);
    if (isNaN(date)) return iso;
    return format({ weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }).format(date);
  }

  /* "2026-11-01" (a calendar day, no zone) → "1 Nov 2026". */
  function day(text) {
    var parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
    if (!parts) return text;
    var date = new Date(Date.UTC(+parts[1], +parts[2] - 1, +parts[3], 12));
    return new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(date);
  }

  /* ---- daily pass ---- */

  function setSwitch(id, on, allowed) {
    var button = document.getElementById(id);
    button.setAttribute("aria-checked", on ? "true" : "false");
    button.removeAttribute("aria-busy");
    button.querySelector(".switch-text").textContent = on ? "On" : "Off";
    button.disabled = !allowed;
  }

  function renderWindow() {
    var box = document.getElementById("pass-window");
    box.textContent = "";
    if (pass.validFrom && pass.validUntil) {
      box.appendChild(document.createTextNode("Valid from " + when(pass.validFrom) + " until " + when(pass.validUntil)));
    } else {
      box.appendChild(document.createTextNode(
        pass.flag ? "None yet: the next one is picked at 04:00." : "None. Switch the daily word on, or pick one now."
      ));
    }
    if (pass.required && !pass.validFrom) {
      var warn = el("span", "field-error", "Guests cannot order until there is a word.");
      box.appendChild(warn);
    }
  }

  function loadPass() {
    return Promise.all([C.api("GET", "/api/v1/flags"), C.api("GET", "/api/v1/daily_pass")]).then(function (results) {
      var flags = results[0];
      var status = results[1];
      if (!flags.ok) return showError("pass-error", flags.data, "The daily pass could not be loaded.");
      if (!status.ok) return showError("pass-error", status.data, "The daily pass could not be loaded.");
      hideError("pass-error");
      var flag = (flags.data.items || []).filter(function (f) { return f.name === FLAG; })[0];
      pass.flag = !!(flag && flag.enabled);
      pass.required = !!status.data.required;
      pass.validFrom = status.data.valid_from;
      pass.validUntil = status.data.valid_until;
      setSwitch("pass-flag", pass.flag, canFlag);
      setSwitch("pass-required", pass.required, canRotate);
      renderWindow();
    });
  }

  function toggle(button, call, apply, message) {
    if (button.getAttribute("aria-busy") === "true") return;
    var on = button.getAttribute("aria-checked") !== "true";
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    call(on).then(function (result) {
      if (!result.ok) {
        setSwitch(button.id, !on, true);
        showError("pass-error", result.data, "That did not work. Try again.");
        return;
      }
      hideError("pass-error");
      apply(result.data);
      window.Servio.toast(message(on));
      loadPass().then(function () { button.focus(); });
    });
  }

  function wirePass() {
    document.getElementById("pass-flag").addEventListener("click", function (event) {
      toggle(event.currentTarget, function (on) {
        return C.api("PUT", "/api/v1/flags/" + FLAG, { enabled: on, scope: "outlet" });
      }, function (data) {
        pass.flag = !!data.enabled;
      }, function (on) {
        return on ? "Daily word on: a new one every day at 04:00" : "Daily word off";
      });
    });
    document.getElementById("pass-required").addEventListener("click", function (event) {
      toggle(event.currentTarget, function (on) {
        return C.api("PUT", "/api/v1/settings/" + SETTING, { value: on, scope: "outlet" });
      }, function (data) {
        pass.required = !!data.value;
      }, function (on) {
        return on ? "Guests must now enter the word before ordering" : "Guests no longer need the word";
      });
    });

    var rotate = document.getElementById("pass-rotate");
    if (!rotate) return;
    var idle = rotate.textContent;
    var timer = 0;
    rotate.addEventListener("click", function () {
      if (pass.validFrom && rotate.dataset.confirming !== "true") {
        // A word is in use: a second click within a few seconds confirms replacing it.
        rotate.dataset.confirming = "true";
        rotate.textContent = "Click again to replace today’s word";
        timer = window.setTimeout(function () {
          rotate.dataset.confirming = "false";
          rotate.textContent = idle;
        }, CONFIRM_MS);
        return;
      }
      window.clearTimeout(timer);
      rotate.dataset.confirming = "false";
      rotate.disabled = true;
      rotate.textContent = rotate.dataset.busyLabel;
      C.api("POST", "/api/v1/daily_pass/rotate").then(function (result) {
        rotate.disabled = false;
        rotate.textContent = idle;
        if (!result.ok) return showError("pass-error", result.data, "A new word could not be picked.");
        hideError("pass-error");
        pass.validFrom = result.data.valid_from;
        pass.validUntil = result.data.valid_until;
        renderWindow();
        showWord(result.data.word, result.data.valid_until);
      });
    });
    document.getElementById("pass-word-hide").addEventListener("click", function () {
      hideWord();
      rotate.focus();
    });
  }

  function showWord(word, until) {
    var box = document.getElementById("pass-word");
    box.querySelector("[data-word]").textContent = word;
    box.querySelector("[data-word-until]").textContent = when(until);
    box.hidden = false;
    box.focus();
  }

  function hideWord() {
    var box = document.getElementById("pass-word");
    box.querySelector("[data-word]").textContent = "";
    box.hidden = true;
  }

  /* ---- summary ---- */

  function signed(score) {
    var text = String(Math.round(score * 10) / 10);
    return score > 0 ? "+" + text : text.replace("-", "−");
  }

  function renderSummary(data) {
    document.getElementById("summary-range").textContent =
      data.from_date === data.to_date ? day(data.from_date) : day(data.from_date) + " – " + day(data.to_date);
    document.getElementById("range-from").value = data.from_date;
    document.getElementById("range-to").value = data.to_date;

    var up = data.thumbs_up;
    var down = data.thumbs_down;
    var total = up + down;
    var share = document.getElementById("thumbs-share");
    share.textContent = total ? Math.round((up * 100) / total) + "%" : "—";
    share.classList.toggle("is-empty", !total);
    document.getElementById("thumbs-counts").textContent = total
      ? up + " up · " + down + " down"
      : "No thumbs in this period yet";

    var nps = data.nps;
    var score = document.getElementById("nps-score");
    score.textContent = nps.score === null ? "—" : signed(nps.score);
    score.classList.toggle("is-good", nps.score !== null && nps.score > 0);
    score.classList.toggle("is-bad", nps.score !== null && nps.score < 0);
    score.classList.toggle("is-empty", nps.score === null);
    document.getElementById("nps-responses").textContent = nps.responses
      ? nps.responses + (nps.responses === 1 ? " score" : " scores") + " from 0 to 10"
      : "No 0–10 scores in this period yet";
    ["promoters", "passives", "detractors"].forEach(function (key) {
      var bar = document.getElementById("nps-" + key + "-bar");
      bar.max = Math.max(nps.responses, 1);
      bar.value = nps[key];
      bar.textContent = nps[key] + " of " + nps.responses;
      document.getElementById("nps-" + key).textContent = nps[key];
    });
  }

  function loadSummary(range) {
    var query = [];
    if (range && range.from) query.push("from=" + encodeURIComponent(range.from));
    if (range && range.to) query.push("to=" + encodeURIComponent(range.to));
    var box = document.getElementById("summary");
    box.setAttribute("aria-busy", "true");
    return C.api("GET", "/api/v1/feedback/summary" + (query.length ? "?" + query.join("&") : "")).then(function (result) {
      box.setAttribute("aria-busy", "false");
      if (result.ok) {
        hideError("summary-error");
        renderSummary(result.data);
      }
      return result;
    });
  }

  function wireRange() {
    var form = document.getElementById("range-form");
    var alertBox = document.getElementById("range-errors");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      C.clearProblems(form, alertBox);
      C.busy(form);
      loadSummary({ from: form.elements.namedItem("from").value, to: form.elements.namedItem("to").value }).then(function (result) {
        C.release(form);
        if (!result.ok) C.showProblem(form, alertBox, result.data);
      });
    });
  }

  /* ---- feedback list ---- */

  function rating(item) {
    if (item.kind === "thumbs") {
      return item.thumbs_up
        ? el("span", "badge badge-success", "Thumbs up")
        : el("span", "badge badge-danger", "Thumbs down");
    }
    var group = item.score >= 9 ? ["badge-success", "promoter"] : item.score >= 7 ? ["badge-info", "passive"] : ["badge-danger", "detractor"];
    return el("span", "badge " + group[0], item.score + " / 10 · " + group[1]);
  }

  function row(item) {
    var tr = el("tr");
    tr.dataset.feedbackId = item.id;
    var time = el("time", "", when(item.created_at));
    time.dateTime = item.created_at;
    var cell = el("td");
    cell.appendChild(time);
    tr.appendChild(cell);
    tr.appendChild(el("td", "", item.kind === "nps" ? "Score" : "Thumbs"));
    var grade = el("td");
    grade.appendChild(rating(item));
    tr.appendChild(grade);
    // textContent only: a guest's comment is shown as typed, never as markup.
    tr.appendChild(item.comment ? el("td", "comment", item.comment) : el("td", "muted", "—"));
    return tr;
  }

  function loadFeedback(more) {
    var rows = document.getElementById("feedback-rows");
    var button = document.getElementById("feedback-more");
    var url = "/api/v1/feedback?limit=" + PAGE_SIZE + (more && nextCursor ? "&cursor=" + encodeURIComponent(nextCursor) : "");
    return C.api("GET", url).then(function (result) {
      if (!result.ok) {
        if (!more) rows.textContent = "";
        showError("feedback-error", result.data, "The feedback could not be loaded.");
        return;
      }
      hideError("feedback-error");
      var items = result.data.items || [];
      if (!more) rows.textContent = "";
      if (!more && !items.length) {
        var empty = el("tr");
        var cell = el("td", "empty-row muted", "No feedback yet. Guests are asked how it was once their order is served.");
        cell.colSpan = 4;
        empty.appendChild(cell);
        rows.appendChild(empty);
      }
      var first = null;
      items.forEach(function (item) {
        var tr = row(item);
        first = first || tr;
        rows.appendChild(tr);
      });
      nextCursor = result.data.next_cursor || null;
      button.hidden = !nextCursor;
      if (more && first) {
        // Keyboard users continue from the first new row rather than the vanished button.
        var target = first.querySelector("time");
        target.tabIndex = -1;
        target.focus();
      }
    });
  }

  function wireFeedback() {
    var button = document.getElementById("feedback-more");
    button.addEventListener("click", function () {
      var idle = button.textContent;
      button.disabled = true;
      button.textContent = button.dataset.busyLabel;
      loadFeedback(true).then(function () {
        button.disabled = false;
        button.textContent = idle;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    app = document.getElementById("guests-app");
    if (!app) return;
    timeZone = app.dataset.timezone || undefined;
    canFlag = app.dataset.canFlag === "true";
    canRotate = app.dataset.canRotate === "true";
    if (app.dataset.canPass === "true") {
      wirePass();
      loadPass();
    }
    wireRange();
    wireFeedback();
    loadSummary().then(function (result) {
      if (!result.ok) showError("summary-error", result.data, "The summary could not be loaded.");
    });
    loadFeedback(false);
  });
})();
