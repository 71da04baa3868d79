/* planeco: keep the address bar in step with an app's state, so that the URL can be shared.
   Widgets cannot run scripts (their HTML is inserted, scripts never execute): an app writes its
   query string into the data-planeco-url attribute of a hidden element, and this observer copies
   it into the address bar with history.replaceState (no reload, no new history entry). */
(function () {
  "use strict";
  var last = null, pending = false;
  function sync() {
    pending = false;
    var el = document.querySelector("[data-planeco-url]");
    if (!el) { return; }
    var q = el.getAttribute("data-planeco-url") || "";
    if (q === last) { return; }
    last = q;
    var url = window.location.pathname + (q ? "?" + q : "") + window.location.hash;
    if (url !== window.location.pathname + window.location.search + window.location.hash) {
      window.history.replaceState(window.history.state, "", url);
    }
  }
  function schedule() {
    if (!pending) { pending = true; window.setTimeout(sync, 0); }
  }
  new MutationObserver(schedule).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["data-planeco-url"]
  });
})();
