// OneShot subscription page: open Billkey's payment window in redirect mode
// to issue the billing key (amount 0); the first charge follows server-side.
(function () {
  var d = document.getElementById("oneshot").dataset;
  function start() {
    IMP.init(d.merchant);
    IMP.request_pay({
      pg: d.pg, pay_method: "card", merchant_uid: d.merchantUid, customer_uid: d.customerUid,
      amount: 0, name: d.name || "Subscription", m_redirect_url: d.redirect
    });
  }
  // The customer reads the terms first; the window opens on their click.
  document.getElementById("start").addEventListener("click", start);
})();
