// The demo merchant page: what a merchant's own page does with the IMP SDK.
(function () {
  "use strict";
  var root = document.getElementById("demo");
  var merchant = root.getAttribute("data-merchant");
  var rspOut = document.getElementById("rsp");
  var resultOut = document.getElementById("result");
  IMP.init(merchant);

  function show(el, v) { el.textContent = JSON.stringify(v, null, 2); }

  // A real merchant would verify imp_uid on its server with
  // GET /payments/{imp_uid}; the demo asks Billkey's demo-only endpoint.
  function lookup(impUID) {
    if (!impUID) { resultOut.textContent = "—"; return; }
    var q = new URLSearchParams({ merchant: merchant, imp_uid: impUID });
    fetch("/demo/result?" + q.toString()).then(function (r) { return r.json(); })
      .then(function (v) { show(resultOut, v); resultOut.setAttribute("data-ready", "1"); });
  }

  document.getElementById("demo-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target;
    var choice = f.pg.value.split("|");
    var params = {
      pg: choice[0], pay_method: choice[1],
      merchant_uid: "demo_" + Date.now(),
      customer_uid: f.customer_uid.value,
      amount: Number(f.amount.value || 0),
      name: "Billkey 데모 구독 Demo plan",
      buyer_name: "홍길동", buyer_email: "demo@example.com", buyer_tel: "010-1234-5678"
    };
    // Every PG may come back here: some (CHAI) redirect even when a
    // callback is given, as their i'mport guides say.
    params.m_redirect_url = location.origin + "/demo?merchant=" + encodeURIComponent(merchant);
    if (f.mode.value === "redirect") {
      IMP.request_pay(params); // no callback: the result comes back in the URL
      return;
    }
    IMP.request_pay(params, function (rsp) {
      show(rspOut, rsp);
      lookup(rsp.imp_uid);
    });
  });

  // Back from m_redirect_url: the result is in the query string.
  var q = new URLSearchParams(location.search);
  if (q.has("imp_success")) {
    var r = {};
    q.forEach(function (v, k) { if (k !== "merchant") r[k] = v; });
    show(rspOut, r);
    lookup(q.get("imp_uid"));
  }
})();
