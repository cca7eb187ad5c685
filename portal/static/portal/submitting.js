// A form being sent says so: its submit buttons are disabled (no second
// pledge or statement from an impatient second click) and the one pressed is
// marked busy, showing its data-busy-text if it has one. Forms that another
// script sends itself (it calls preventDefault: catalogue filters, quizzes,
// card payments with Stripe.js) are left alone, and so is a form marked
// data-no-busy (say, one whose answer is a download and leaves the page open).
(function () {
  "use strict";
  if (!window.WeakMap) return;
  var idleLabels = new WeakMap();

  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.type === "submit" || element.type === "image";
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.hasAttribute("data-no-busy")) return;
    if (form.hasAttribute("data-submitting")) {
      event.preventDefault(); // already on its way
      return;
    }
    var pressed = event.submitter || submitButtons(form)[0];
    // After the other handlers, and after the browser has read the pressed
    // button's name and value: a disabled button sends neither.
    setTimeout(function () {
      if (event.defaultPrevented) return;
      form.setAttribute("data-submitting", "");
      submitButtons(form).forEach(function (button) {
        button.disabled = true;
      });
      if (!pressed) return;
      pressed.setAttribute("aria-busy", "true");
      var text = pressed.getAttribute("data-busy-text");
      if (text && pressed.tagName === "BUTTON") {
        idleLabels.set(pressed, pressed.innerHTML);
        pressed.textContent = text;
      }
    }, 0);
  });

  // Back to a page the browser kept in memory: its forms can be sent again.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submitting]").forEach(function (form) {
      form.removeAttribute("data-submitting");
      submitButtons(form).forEach(function (button) {
        button.disabled = false;
        button.removeAttribute("aria-busy");
        if (idleLabels.has(button)) {
          button.innerHTML = idleLabels.get(button);
          idleLabels.delete(button);
        }
      });
    });
  });
})();
