// Catalogue filters without a page reload: a change fetches the same GET URL
// the form would submit, swaps the results and records the URL in history.
// Without this script the form submits normally.
(function () {
  "use strict";
  var status = document.getElementById("catalogue-status");
  if (!form() || !status || !window.fetch || !window.DOMParser || !history.pushState) return;
  var pending = null;

  // The form is replaced when the back button restores an earlier state.
  function form() {
    return document.getElementById("catalogue-filters");
  }

  function urlOf() {
    var params = new URLSearchParams();
    new FormData(form()).forEach(function (value, name) {
      if (value !== "") params.append(name, value);
    });
    var query = params.toString();
    return form().action.split("?")[0] + (query ? "?" + query : "");
  }

  function swap(doc, id) {
    var fresh = doc.getElementById(id), old = document.getElementById(id);
    if (fresh && old) old.replaceWith(fresh);
  }

  function load(url, push) {
    if (pending) pending.abort();
    pending = new AbortController();
    var results = document.getElementById("catalogue-results");
    results.setAttribute("aria-busy", "true");
    fetch(url, { signal: pending.signal, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var freshForm = doc.getElementById("catalogue-filters");
        // A value the server refused: show the whole page with its message.
        if (push && freshForm && freshForm.querySelector(".errorlist")) {
          window.location.assign(url);
          return;
        }
        swap(doc, "catalogue-results");
        if (!push) swap(doc, "catalogue-filters");
        if (push) history.pushState({ catalogue: true }, "", url);
        // The language switcher leads to the page shown, filters included.
        var next = document.querySelector(".language-switcher [name=next]");
        if (next) next.value = location.pathname + location.search;
        document.title = doc.title;
        var heading = document.getElementById("results-heading");
        status.textContent = heading ? heading.textContent.trim() : "";
      })
      .catch(function (error) {
        if (error.name !== "AbortError") window.location.assign(url);
      });
  }

  document.addEventListener("change", function (event) {
    if (event.target.form !== form() || event.target.type === "search") return;
    load(urlOf(), true);
  });
  document.addEventListener("submit", function (event) {
    if (event.target !== form()) return;
    event.preventDefault();
    load(urlOf(), true);
  });
  window.addEventListener("popstate", function () {
    load(window.location.href, false);
  });
})();
