// The staff console's only script (no build step, no library). Without it every page still works;
// with it the queue refreshes itself every 2 s, keeping the boxes ticked, and "Select all" appears.
// The rows come with an ETag: the browser revalidates ("no-cache") and an unchanged queue costs a 304.
(function () {
  "use strict";
  var EVERY_MS = 2000;

  function ticked(table) {
    var on = {};
    table.querySelectorAll('input[name="order"]:checked').forEach(function (box) { on[box.value] = true; });
    return on;
  }

  function liveQueue() {
    var live = document.getElementById("queue-live");
    var rows = document.getElementById("queue-rows");
    if (!live || !rows) { return; }
    var src = live.getAttribute("data-src");
    var last = rows.outerHTML;
    var busy = false;

    function refresh() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(src, { headers: { "X-Console-Fetch": "1" }, credentials: "same-origin", cache: "no-cache" })
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); return null; }
          if (!response.ok) { live.textContent = "Not refreshed: the server did not answer."; return null; }
          return response.text();
        })
        .then(function (html) {
          if (html === null || html === undefined) { return; }
          live.textContent = "";
          if (html === last) { return; }
          last = html;
          var current = document.getElementById("queue-rows");
          var keep = ticked(current.closest("table"));
          var holder = document.createElement("template");
          holder.innerHTML = html.trim();
          var fresh = holder.content.firstElementChild;
          fresh.querySelectorAll('input[name="order"]').forEach(function (box) {
            box.checked = Boolean(keep[box.value]);
          });
          current.replaceWith(fresh);
          var count = document.getElementById("queue-count");
          if (count) { count.textContent = fresh.getAttribute("data-count"); }
        })
        .catch(function () { live.textContent = "Not refreshed: the server did not answer."; })
        .finally(function () { busy = false; });
    }
    window.setInterval(refresh, EVERY_MS);
    document.addEventListener("visibilitychange", refresh);
  }

  function selectAll() {
    var all = document.getElementById("select-all");
    if (!all) { return; }
    all.hidden = false;
    all.addEventListener("change", function () {
      document.querySelectorAll('#queue-rows input[name="order"]').forEach(function (box) {
        box.checked = all.checked;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { liveQueue(); selectAll(); });
})();
