/* yuqing console: charts (ECharts from /static/vendor), CSRF header for fetch, countdowns.
   No inline scripts anywhere: the CSP allows script-src 'self' only. */
(function () {
  "use strict";

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(
      function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }
    );
  }

  var LEVEL_COLOURS = { I: "#d7263d", II: "#f46036", III: "#f2c14e", IV: "#2e86ab" };

  function drawVolume(el, data) {
    var chart = window.echarts.init(el);
    var series = data.series.map(function (s) {
      return { name: s.name, type: "line", smooth: true, data: s.counts };
    });
    var hasShare = data.negative_share.some(function (v) { return v !== null; });
    if (hasShare) {
      series.push({
        name: el.dataset.labelNegative || "negative",
        type: "bar",
        yAxisIndex: 1,
        itemStyle: { color: "rgba(215,38,61,0.35)" },
        data: data.negative_share.map(function (v) { return v === null ? null : Math.round(v * 1000) / 10; })
      });
    }
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      grid: { left: 40, right: hasShare ? 40 : 10, top: 30, bottom: 30 },
      xAxis: { type: "category", data: data.buckets },
      yAxis: [{ type: "value", minInterval: 1 }, { type: "value", max: 100, axisLabel: { formatter: "{value}%" }, show: hasShare }],
      series: series
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawLevels(el, data) {
    var chart = window.echarts.init(el);
    var names = ["I", "II", "III", "IV"];
    chart.setOption({
      animation: false,
      tooltip: {},
      grid: { left: 30, right: 10, top: 10, bottom: 30 },
      xAxis: { type: "category", data: names },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        type: "bar",
        data: names.map(function (n) {
          return { value: data.levels[n] || 0, itemStyle: { color: LEVEL_COLOURS[n] } };
        })
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawSeries(el, data) {
    var chart = window.echarts.init(el);
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 10, top: 10, bottom: 30 },
      xAxis: { type: "category", data: data.buckets },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: data.counts }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  var DRAW = { volume: drawVolume, levels: drawLevels, series: drawSeries };

  function initCharts() {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var draw = DRAW[el.dataset.chart];
      if (!draw) return;
      if (el.dataset.src) {
        getJSON(el.dataset.src).then(function (data) { draw(el, data); el.dataset.ready = "1"; })
          .catch(function () { el.textContent = "—"; });
      } else if (el.dataset.json) {
        draw(el, JSON.parse(el.dataset.json));
        el.dataset.ready = "1";
      }
    });
  }

  function initCountdowns() {
    var els = document.querySelectorAll("[data-deadline]");
    if (!els.length) return;
    // Count against the server's clock (it may differ from this device's).
    var serverNow = Date.parse(document.body.dataset.now || "");
    var skew = isNaN(serverNow) ? 0 : serverNow - Date.now();
    function tick() {
      var now = Date.now() + skew;
      els.forEach(function (el) {
        var left = Math.round((Date.parse(el.dataset.deadline) - now) / 1000);
        var sign = left < 0 ? "-" : "";
        left = Math.abs(left);
        var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
        el.textContent = sign + h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
        el.classList.toggle("overdue", sign === "-");
      });
    }
    tick();
    setInterval(tick, 1000);
  }

  function initConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
      });
    });
  }

  function loadEcharts(cb) {
    if (!document.querySelector("[data-chart]")) return;
    if (window.echarts) { cb(); return; }
    var s = document.createElement("script");
    s.src = "/static/vendor/echarts.min.js";
    s.onload = cb;
    document.head.appendChild(s);
  }

  window.yuqing = { csrf: csrf, getJSON: getJSON };

  document.addEventListener("DOMContentLoaded", function () {
    loadEcharts(initCharts);
    initCountdowns();
    initConfirm();
  });
})();
