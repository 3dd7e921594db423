// The staff console's only script (no build step, no library). Without it every page still works, in
// UTC; with it times read in the browser's time zone (UTC on hover), the queue refreshes itself every
// 2 s, keeping the boxes ticked and marking the requests that came in since the page opened, and
// "Select all" appears. The rows come with an ETag: the browser revalidates ("no-cache") and an
// unchanged queue costs a 304.
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var LOCAL = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"
  });

  // Each <time datetime> the server wrote in UTC, in the reader's own time; the UTC text as its title.
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (time) {
      if (time.hasAttribute("data-utc")) { return; }
      var at = new Date(time.getAttribute("datetime"));
      if (isNaN(at.getTime())) { return; }
      var utc = time.textContent.trim();
      time.setAttribute("data-utc", utc);
      time.title = utc;
      time.textContent = LOCAL.format(at);
    });
  }

  function ticked(table) {
    var on = {};
    table.querySelectorAll('input[name="order"]:checked').forEach(function (box) { on[box.value] = true; });
    return on;
  }

  function ordersIn(rows) {
    var found = [];
    rows.querySelectorAll("tr[data-order]").forEach(function (row) { found.push(row.getAttribute("data-order")); });
    return found;
  }

  function liveQueue() {
    var live = document.getElementById("queue-live");
    var rows = document.getElementById("queue-rows");
    if (!live || !rows) { return; }
    var src = live.getAttribute("data-src");
    var last = rows.outerHTML;
    var busy = false;
    var known = {};  // the orders shown when the page opened, and every one shown since
    var arrived = {};  // the orders that came in while the page was open: marked until it is left
    ordersIn(rows).forEach(function (order) { known[order] = true; });

    function mark(fresh) {
      var news = [];
      fresh.querySelectorAll("tr[data-order]").forEach(function (row) {
        var order = row.getAttribute("data-order");
        if (!known[order]) { known[order] = true; arrived[order] = true; news.push(order); }
        if (!arrived[order]) { return; }
        row.classList.add("arrived");
        var link = row.querySelector('td[data-label="Order"]');
        if (link) {
          var badge = document.createElement("span");
          badge.className = "new";
          badge.textContent = "New";
          link.appendChild(badge);
        }
      });
      return news;
    }

    function say(text, news) {
      live.textContent = text;
      live.classList.toggle("news", Boolean(news));
    }

    function refresh() {
      if (busy || document.hidden) { return; }
      busy = true;
      fetch(src, { headers: { "X-Console-Fetch": "1" }, credentials: "same-origin", cache: "no-cache" })
        .then(function (response) {
          if (response.status === 401) { window.location.reload(); return null; }
          if (!response.ok) { say("Not refreshed: the server did not answer."); return null; }
          return response.text();
        })
        .then(function (html) {
          if (html === null || html === undefined) { return; }
          if (!live.classList.contains("news")) { say(""); }
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
          var news = mark(fresh);
          localTimes(fresh);
          current.replaceWith(fresh);
          var count = document.getElementById("queue-count");
          if (count) { count.textContent = fresh.getAttribute("data-count"); }
          if (news.length) {
            say(news.length === 1 ? "New request: order " + news[0] + "." :
              news.length + " new requests: orders " + news.join(", ") + ".", true);
          }
        })
        .catch(function () { say("Not refreshed: the server did not answer."); })
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

  document.addEventListener("DOMContentLoaded", function () { localTimes(document); liveQueue(); selectAll(); });
})();
