/* The console's charts, drawn with the vendored ECharts (/static/vendor/echarts-6.1.0/echarts.common.min.js, loaded
   before this file). No inline script (CSP script-src 'self'): a page marks the chart's place with
     <div class="chart" data-chart="stacked-bar" data-chart-data="ID"></div>
   and gives its data in <script type="application/json" id="ID">{…}</script>, which the server writes:
     stacked-bar: {"labels": [county names], "series": [{"name": "甲", "data": [counts per label]}, …],
                   "links": [a URL per label, or null], "unit": "家"}
   A click on a bar opens links[label] with the bar's category (&category=甲). The element gets
   data-chart-drawn="true" once drawn (the browser tests wait for it). */
(function () {
  "use strict";

  var CATEGORY_COLOURS = { "甲": "#027a48", "乙": "#b54708", "丙": "#b42318" };

  function stackedBar(element, data) {
    var labels = data.labels || [];
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: labels, axisLabel: { interval: 0, rotate: labels.length > 8 ? 40 : 0 } },
      yAxis: { type: "value", minInterval: 1, name: data.unit || "" },
      series: (data.series || []).map(function (s) {
        return { name: s.name, type: "bar", stack: "total", data: s.data, emphasis: { focus: "series" },
                 itemStyle: { color: CATEGORY_COLOURS[s.name] } };
      })
    });
    chart.on("click", function (params) {
      var link = (data.links || [])[params.dataIndex];
      if (link) {
        window.location.href = link + (link.indexOf("?") < 0 ? "?" : "&") + "category=" + encodeURIComponent(params.seriesName);
      }
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  var KINDS = { "stacked-bar": stackedBar };

  function drawAll() {
    if (typeof echarts === "undefined") { return; }  // the table beside each chart says the same
    var elements = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < elements.length; i++) {
      var element = elements[i];
      var draw = KINDS[element.getAttribute("data-chart")];
      var source = document.getElementById(element.getAttribute("data-chart-data") || "");
      if (!draw || !source || element.getAttribute("data-chart-drawn") === "true") { continue; }
      draw(element, JSON.parse(source.textContent));
      element.setAttribute("data-chart-drawn", "true");
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
