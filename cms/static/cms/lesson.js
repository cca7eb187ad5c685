// Quizzes and calculators work as plain forms that post back to the lesson.
// With JavaScript, the answer replaces only the quiz or calculator, without
// reloading the page or losing the reader's place.
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser) return;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-enhance]")) return;
    var block = form.closest(".block");
    if (!block) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById(block.id);
        if (!fresh) throw new Error("missing block");
        block.replaceWith(fresh);
        var status = fresh.querySelector("[role=status], [role=alert], .field-error");
        var focusable = fresh.querySelector("[aria-invalid=true]") || status;
        if (focusable) {
          if (!focusable.hasAttribute("tabindex") && !focusable.matches("input, select")) {
            focusable.setAttribute("tabindex", "-1");
          }
          focusable.focus();
        }
      })
      .catch(function () {
        form.submit(); // fall back to the plain post
      });
  });
})();
