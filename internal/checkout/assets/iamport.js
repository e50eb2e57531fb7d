/*!
 * Billkey IMP SDK: the i'mport (PortOne V1) browser SDK, served by a
 * self-hosted Billkey. Vanilla JS, no dependencies, no build step.
 *
 *   <script src="https://billkey.example.com/v1/iamport.js"
 *           integrity="sha384-…" crossorigin="anonymous"></script>
 *   IMP.init("imp12345678");
 *   IMP.request_pay({ pg: "kicc", pay_method: "card", merchant_uid: "order_1",
 *                     customer_uid: "user_1", amount: 0 }, function (rsp) { … });
 *
 * The integrity value is published at GET /v1/iamport.json.
 */
(function (window, document) {
  "use strict";
  if (window.IMP && window.IMP.billkey) return;

  // Billkey's origin is where this file came from; the window and every
  // call go there, whatever page loaded the SDK.
  var script = document.currentScript;
  var BASE = script && script.src ? new URL(script.src, window.location.href).origin : window.location.origin;
  var merchantCode = null;
  var current = null; // at most one window at a time, like i'mport's

  function failure(params, code, msg) {
    return {
      success: false, imp_success: false, imp_uid: null,
      merchant_uid: (params && params.merchant_uid) || null,
      error_code: code, error_msg: msg
    };
  }

  function isMobile() {
    return /Android|iPhone|iPad|iPod|Mobile/i.test(window.navigator.userAgent);
  }

  function post(path, body) {
    var opts = { method: "POST", mode: "cors", credentials: "omit", cache: "no-store" };
    if (body) {
      opts.headers = { "Content-Type": "application/json" };
      opts.body = JSON.stringify(body);
    } else {
      opts.keepalive = true; // a close must reach Billkey even if the page is leaving
    }
    return window.fetch(BASE + path, opts).then(function (r) { return r.json(); });
  }

  function css(el, styles) {
    for (var k in styles) el.style[k] = styles[k];
    return el;
  }

  function init(code) {
    merchantCode = String(code || "").trim();
  }

  function request_pay(params, callback) {
    params = params || {};
    var cb = typeof callback === "function" ? callback : null;
    function done(rsp) {
      if (!cb) return;
      try { cb(rsp); } catch (e) { setTimeout(function () { throw e; }); }
    }
    if (!merchantCode) {
      return done(failure(params, "NOT_INITIALIZED", "IMP.init(가맹점 식별코드)를 먼저 호출하세요. (Call IMP.init first.)"));
    }
    if (current) {
      return done(failure(params, "WINDOW_ALREADY_OPEN", "이미 결제창이 열려 있습니다. (A payment window is already open.)"));
    }
    // As with i'mport: m_redirect_url is used on mobile browsers, and also
    // when no callback is given; otherwise the window is an overlay and the
    // result goes to the callback.
    // Billkey then applies the PG's own rule (CHAI redirects on PC too;
    // Danal, Kakao Pay, PAYCO and Mobilians call back on mobile too) and
    // says which mode it chose.
    var redirect = !!params.m_redirect_url && (isMobile() || !cb);
    current = true;
    post("/v1/checkout/sessions", { merchant_code: merchantCode, mode: redirect ? "redirect" : "popup",
                                    mobile: isMobile(), callback: !!cb, params: params })
      .then(function (res) {
        if (res.mode) redirect = res.mode === "redirect";
        if (!res.session_id) {
          current = null;
          if (redirect && res.redirect_url) return window.location.assign(res.redirect_url);
          return done(res.rsp || failure(params, "INTERNAL_ERROR", "결제창을 열 수 없습니다. (Could not open the window.)"));
        }
        if (redirect) return window.location.assign(res.url);
        open(res, params, done);
      }, function () {
        current = null;
        done(failure(params, "NETWORK_ERROR", "Billkey 서버에 연결할 수 없습니다. (Cannot reach Billkey.)"));
      });
  }

  // open shows the window as an overlay iframe until it reports a result or
  // the customer closes it.
  function open(session, params, done) {
    var overlay = css(document.createElement("div"), {
      position: "fixed", top: "0", right: "0", bottom: "0", left: "0", zIndex: "2147483647",
      background: "rgba(17,24,39,.55)", display: "flex", alignItems: "center", justifyContent: "center"
    });
    var box = css(document.createElement("div"), {
      position: "relative", width: "440px", maxWidth: "100vw", height: "720px", maxHeight: "100vh",
      background: "#fff", borderRadius: "12px", overflow: "hidden", boxShadow: "0 20px 60px rgba(0,0,0,.35)"
    });
    var frame = css(document.createElement("iframe"), { border: "0", width: "100%", height: "100%", display: "block" });
    var close = css(document.createElement("button"), {
      position: "absolute", top: "8px", right: "8px", width: "32px", height: "32px", border: "0",
      borderRadius: "50%", background: "rgba(0,0,0,.35)", color: "#fff", fontSize: "20px", lineHeight: "32px",
      cursor: "pointer", padding: "0"
    });
    overlay.id = "imp-billkey-overlay";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", "결제창 Payment window");
    frame.id = "imp-billkey-frame";
    frame.title = "결제창 Payment window";
    frame.setAttribute("sandbox", "allow-scripts allow-forms allow-same-origin");
    frame.src = session.url;
    close.id = "imp-billkey-close";
    close.type = "button";
    close.textContent = "\u00d7";
    close.setAttribute("aria-label", "결제창 닫기 Close payment window");

    var finished = false;
    function finish(rsp) {
      if (finished) return;
      finished = true;
      window.removeEventListener("message", onMessage);
      document.removeEventListener("keydown", onKey, true);
      overlay.parentNode && overlay.parentNode.removeChild(overlay);
      current = null;
      done(rsp);
    }
    function onMessage(e) {
      // Trust only Billkey's own page in our own frame, for this session.
      if (e.origin !== BASE || e.source !== frame.contentWindow) return;
      var d = e.data;
      if (!d || d.type !== "billkey:result" || d.session !== session.session_id) return;
      finish(d.rsp);
    }
    function dismiss() {
      if (finished) return;
      close.disabled = true;
      // Billkey answers with the window's real outcome: normally the
      // cancellation, but the payment if it completed just before.
      var cancelled = failure(params, "USER_CANCEL", "사용자가 결제창을 닫았습니다. (The customer closed the payment window.)");
      post("/v1/checkout/" + encodeURIComponent(session.session_id) + "/close")
        .then(function (res) { finish(res.rsp || cancelled); }, function () { finish(cancelled); });
    }
    function onKey(e) {
      if (e.key === "Escape") dismiss();
    }
    close.addEventListener("click", dismiss);
    window.addEventListener("message", onMessage);
    document.addEventListener("keydown", onKey, true);
    box.appendChild(frame);
    box.appendChild(close);
    overlay.appendChild(box);
    document.body.appendChild(overlay);
    current = overlay;
  }

  window.IMP = {
    billkey: true,
    version: "billkey-1",
    init: init,
    agency: function (code) { init(code); }, // sub-merchant tiers are not modelled
    request_pay: request_pay,
    certification: function (params, callback) {
      if (typeof callback === "function") {
        callback(failure(params, "NOT_SUPPORTED", "본인인증은 지원하지 않습니다. (Identity verification is not supported.)"));
      }
    }
  };
})(window, document);
