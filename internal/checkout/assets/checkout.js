// Billkey payment window page script. The form works without it; this adds
// input formatting, double-submit protection, Esc to cancel, and hands the
// result to the merchant page that embeds the window.
(function () {
  "use strict";

  var result = document.getElementById("result");
  if (result) {
    // Only the merchant page that opened the window may read the result:
    // postMessage goes to the session's origin, never to "*".
    var origin = result.getAttribute("data-origin");
    var rsp = JSON.parse(result.getAttribute("data-rsp"));
    var sent = false;
    var send = function () {
      if (sent || window.parent === window || !origin) return;
      sent = true;
      window.parent.postMessage({ type: "billkey:result", session: result.getAttribute("data-session"), rsp: rsp }, origin);
    };
    // A success or the customer's own cancel returns at once; a refusal
    // stays on screen with its reason until the customer has read it and
    // pressed OK (or Enter/Esc).
    var ok = document.getElementById("result-ok");
    if (rsp.success || rsp.error_code === "USER_CANCEL" || !ok) {
      send();
      return;
    }
    ok.addEventListener("click", send);
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" || e.key === "Enter") send();
    });
    ok.focus();
    return;
  }

  var form = document.getElementById("pay-form");
  if (!form) return;

  function digitsOnly(el, max) { return el.value.replace(/\D/g, "").slice(0, max); }

  var num = document.getElementById("card_number");
  if (num) {
    num.addEventListener("input", function () {
      num.value = digitsOnly(num, 19).replace(/(\d{4})(?=\d)/g, "$1 ");
    });
  }
  var exp = document.getElementById("expiry");
  if (exp) {
    exp.addEventListener("input", function () {
      var d = digitsOnly(exp, 4);
      exp.value = d.length > 2 ? d.slice(0, 2) + "/" + d.slice(2) : d;
    });
  }

  form.addEventListener("submit", function () {
    // Disable after the submission has started, so the browser still sends
    // the form once but a second click cannot send it again.
    var b = document.getElementById("submit");
    setTimeout(function () { b.disabled = true; b.textContent = "처리 중… Processing"; }, 0);
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") document.getElementById("cancel-form").submit();
  });

  var err = document.getElementById("form-error");
  var first = form.querySelector("input:not([type=hidden]), select");
  if (err && first) first.focus();
})();
