// Checkout page behaviour: countdown, copy buttons, live status over Server-Sent Events, sandbox payment.
(function () {
  "use strict";
  var root = document.getElementById("checkout");
  if (!root) { return; }
  var invoiceId = root.dataset.invoice;
  var statusLine = document.getElementById("status");
  var countdown = document.getElementById("countdown");
  var copied = document.getElementById("copied");
  var finished = { confirmed: true, expired: true, paid_partial: true, cancelled: true };

  var secondsLeft = parseInt(root.dataset.expiresIn || "0", 10);
  function showCountdown() {
    var s = Math.max(0, secondsLeft);
    countdown.textContent = String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  }
  var timer = window.setInterval(function () {
    secondsLeft -= 1;
    showCountdown();
    if (secondsLeft <= 0 || finished[root.dataset.status]) { window.clearInterval(timer); }
  }, 1000);

  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = button.dataset.copy || "";
      var done = function () { copied.textContent = "Copied " + text; button.textContent = "Copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, done);
      } else {
        done();
      }
    });
  });

  // Amounts are decimal strings; BigInt units keep the remainder exact.
  function toUnits(text, decimals) {
    var parts = String(text).split(".");
    var fraction = (parts[1] || "").padEnd(decimals, "0").slice(0, decimals);
    return BigInt(parts[0] + fraction);
  }
  function formatUnits(units, decimals) {
    var digits = units.toString().padStart(decimals + 1, "0");
    return decimals === 0 ? digits : digits.slice(0, digits.length - decimals) + "." + digits.slice(digits.length - decimals);
  }

  // What people read, as CheckoutAmounts.Display on the server: at most 8 significant digits, rounded up.
  function displayUnits(units, decimals) {
    var wholeDigits = units.toString().length - decimals;
    var places = units === 0n ? 8 : wholeDigits > 0 ? Math.max(0, 8 - wholeDigits) : 8 - wholeDigits;
    places = Math.min(decimals, places);
    var step = 10n ** BigInt(decimals - places);
    return formatUnits((units + step - 1n) / step, places);
  }

  function describe(event) {
    var asset = root.dataset.asset || "";
    var decimals = parseInt(root.dataset.decimals || "0", 10);
    var remaining = root.dataset.amountUnits ? toUnits("0", decimals) : null;
    if (root.dataset.amountUnits) {
      remaining = BigInt(root.dataset.amountUnits) - toUnits(event.paid_amount, decimals);
    }
    var remainder = remaining === null ? "" : displayUnits(remaining > 0n ? remaining : 0n, decimals) + " " + asset;
    switch (event.status) {
      case "pending":
        return remaining !== null && event.paid_amount !== "0" && toUnits(event.paid_amount, decimals) > 0n
          ? "Under-paid: send the remaining " + remainder + "."
          : (root.dataset.method ? "Waiting for payment." : "Choose a payment method.");
      case "confirming":
        return "Payment received: " + event.confirmations.received + " of " + event.confirmations.required + " confirmations.";
      case "confirmed": return "Paid. Thank you!";
      case "paid_partial": return "Under-paid: the invoice expired; the remaining " + remainder + " was not received.";
      case "expired": return "Expired: this invoice can no longer be paid.";
      case "cancelled": return "Cancelled by the merchant.";
      default: return event.status;
    }
  }

  function show(event) {
    root.dataset.status = event.status;
    statusLine.textContent = describe(event);
    statusLine.className = "status status-" + event.status;
    var simulate = document.getElementById("simulate");
    if (simulate && event.status !== "pending") { simulate.disabled = true; }
    if (event.status === "confirmed" && root.dataset.redirectUrl && /^https?:\/\//i.test(root.dataset.redirectUrl)) {
      window.setTimeout(function () { window.location.assign(root.dataset.redirectUrl); }, 1500);
    }
  }

  if (window.EventSource && !finished[root.dataset.status]) {
    var source = new EventSource("/v1/invoices/" + encodeURIComponent(invoiceId) + "/events");
    source.addEventListener("status", function (message) {
      var event = JSON.parse(message.data);
      show(event);
      if (finished[event.status]) { source.close(); }
    });
  }

  var simulate = document.getElementById("simulate");
  if (simulate) {
    simulate.addEventListener("click", function () {
      simulate.disabled = true;
      fetch("/pay/" + encodeURIComponent(invoiceId) + "/simulate", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ method: root.dataset.method })
      }).then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      }).then(show, function () {
        simulate.disabled = false;
        statusLine.textContent = "The simulated payment failed; try again.";
      });
    });
    // A self-paying sandbox page (data-autopay) pays as soon as a method is shown, as a customer pressing the button would.
    if (root.dataset.autopay === "1" && root.dataset.status === "pending" && !simulate.disabled) { simulate.click(); }
  }
})();
