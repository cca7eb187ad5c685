// Card payment with Stripe.js Elements: confirm the PaymentIntent in the
// page (3-D Secure included), then let the server re-read the payment.
(function () {
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") { return; }
  // Stripe's card field and its messages speak the page's language.
  var stripe = Stripe(form.dataset.stripeKey, {
    locale: (document.documentElement.lang || "auto").split("-")[0]
  });
  var elements = stripe.elements();
  var card = elements.create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("card-pay");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    stripe.confirmCardPayment(form.dataset.clientSecret, {
      payment_method: { card: card },
      return_url: form.dataset.returnUrl
    }).then(function (result) {
      if (result.error) {
        errors.textContent = result.error.message;
        button.disabled = false;
        return;
      }
      form.submit();
    });
  });
})();
