// Refreshes the page's main content every 30 s from the same URL, so every
// filter in the query string stays. Pauses while the tab is hidden or while
// someone is typing into the filter form.
(function () {
  "use strict";
  var main = document.getElementById("main");
  if (!main || !window.fetch || !window.DOMParser) return;
  var seconds = parseInt(main.getAttribute("data-refresh"), 10) || 30;
  function busy() {
    var a = document.activeElement;
    return document.hidden || (a && a.form) || (a && a.tagName === "SUMMARY");
  }
  function refresh() {
    if (busy()) return;
    fetch(location.href, { headers: { "Accept": "text/html" } }).then(function (r) {
      if (!r.ok) return null;
      return r.text();
    }).then(function (html) {
      if (!html || busy()) return;
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.getElementById("main");
      var updated = doc.querySelector(".updated");
      if (fresh) main.innerHTML = fresh.innerHTML;
      var old = document.querySelector(".updated");
      if (updated && old) old.innerHTML = updated.innerHTML;
    }).catch(function () {});
  }
  setInterval(refresh, seconds * 1000);
})();
