// The customer's pages' only script (no build step, no library). Without it every page still works.
// With it: times in the browser's own time zone, the cancellation window counting down (role="timer"),
// and the order page following the order: every 2 s it asks for the order's version, and when it
// changed (a store's decision, the window closing) the page reloads, unless a form is being filled in:
// then a notice offers the latest instead.
(function () {
  "use strict";
  var EVERY_MS = 2000;

  function localTimes() {
    var lang = document.documentElement.lang || "en";
    var format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    document.querySelectorAll("main time[datetime]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (!isNaN(at)) { el.textContent = format.format(at); }
    });
  }

  function span(seconds) {
    var units = [[86400, "d"], [3600, "h"], [60, "min"], [1, "s"]];
    var left = Math.max(0, Math.floor(seconds)), parts = [];
    for (var i = 0; i < units.length; i++) {
      var value = Math.floor(left / units[i][0]);
      left -= value * units[i][0];
      if (value) { parts.push(value + " " + units[i][1]); }
      if (parts.length && (parts.length === 2 || !value)) { break; }
    }
    return parts.join(" ") || "0 s";
  }

  function countdown(onZero) {
    var timer = document.querySelector("[role=timer][data-deadline]");
    if (!timer) { return; }
    var deadline = new Date(timer.getAttribute("data-deadline")).getTime();
    function tick() {
      var left = (deadline - Date.now()) / 1000;
      timer.textContent = span(left);
      if (left <= 0) { window.clearInterval(id); onZero(); }
    }
    var id = window.setInterval(tick, 1000);
    tick();
  }

  function follow() {
    var live = document.getElementById("live");
    if (!live) { return function () {}; }
    var src = live.getAttribute("data-src"), shown = live.getAttribute("data-version"), busy = false;
    var typing = false;
    document.querySelectorAll("main form input, main form select, main form textarea").forEach(function (field) {
      field.addEventListener("input", function () { typing = true; });
    });
    document.getElementById("live-reload").addEventListener("click", function () { window.location.reload(); });
    function check() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(src, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401 || response.status === 404) { window.location.reload(); return null; }
          return response.ok ? response.json() : null;
        })
        .then(function (body) {
          if (!body || body.version === shown) { return; }
          if (typing) { live.hidden = false; } else { window.location.reload(); }
        })
        .catch(function () {})
        .finally(function () { busy = false; });
    }
    window.setInterval(check, EVERY_MS);
    document.addEventListener("visibilitychange", check);
    return check;
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes();
    var check = follow();
    countdown(function () { check(); window.setTimeout(check, 1000); });
  });
})();
