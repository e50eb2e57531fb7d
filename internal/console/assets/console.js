// Billkey console: confirmations on dangerous forms and the overview charts.
// No inline script anywhere: the page's CSP allows only this file and uPlot.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var f = e.target;
    var q = f.getAttribute("data-confirm");
    if (q && !window.confirm(q)) { e.preventDefault(); return; }
    // One click, one request: a double click must not send the form twice.
    if (f.method.toLowerCase() === "post") {
      if (f.dataset.sent) { e.preventDefault(); return; }
      f.dataset.sent = "1";
    }
  });

  // A page brought back from the back-forward cache can send its forms again.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) document.querySelectorAll("form[data-sent]").forEach(function (f) { delete f.dataset.sent; });
  });

  var dataEl = document.getElementById("chart-data");
  if (!dataEl || typeof uPlot === "undefined") return;
  var d = JSON.parse(dataEl.textContent);
  var won = function (v) { return v == null ? "—" : Math.round(v).toLocaleString("ko-KR") + "원"; };
  var pct = function (v) { return v == null ? "—" : v + "%"; };
  var charts = [];
  function chart(id, x, series, opts) {
    var el = document.getElementById(id);
    if (!el) return;
    var width = Math.max(260, el.clientWidth);
    el.textContent = "";
    var o = {
      width: width, height: 220,
      scales: { x: { time: true }, y: opts.range ? { range: opts.range } : {} },
      axes: [{ stroke: "#59636e" }, { stroke: "#59636e", size: 70, values: function (u, vals) { return vals.map(opts.fmt); } }],
      series: [{}].concat(series.map(function (s) { return { label: s.label, stroke: s.color, fill: s.fill, width: 2, value: function (u, v) { return opts.fmt(v); }, paths: opts.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined, spanGaps: false }; })),
      legend: { show: true }
    };
    var u = new uPlot(o, [x].concat(series.map(function (s) { return s.data; })), el);
    charts.push([u, el]);
  }
  chart("chart-volume", d.days, [
    { label: d.labels.Billed, data: d.billed, color: "#1f4fd1", fill: "rgba(31,79,209,.12)" },
    { label: d.labels.Refunded, data: d.refunded, color: "#b42318" }], { fmt: won });
  chart("chart-success", d.days, [{ label: d.labels.Success, data: d.success, color: "#136c2e" }], { fmt: pct, range: [0, 100] });
  chart("chart-mrr", d.months, [{ label: d.labels.MRR, data: d.mrr, color: "#6b3fc9", fill: "rgba(107,63,201,.25)" }], { fmt: won, bars: true });
  chart("chart-upcoming", d.up_days, [{ label: d.labels.Upcoming, data: d.upcoming, color: "#8a5300", fill: "rgba(199,125,0,.3)" }], { fmt: won, bars: true });
  // Charts follow their box: phone rotation, window resizing.
  var fit = function () { charts.forEach(function (c) { c[0].setSize({ width: Math.max(260, c[1].clientWidth), height: 220 }); }); };
  if (typeof ResizeObserver !== "undefined") {
    var ro = new ResizeObserver(fit);
    charts.forEach(function (c) { ro.observe(c[1]); });
  } else {
    window.addEventListener("resize", fit);
  }
})();
