// Draws each chart of the dashboard from the figures the server embedded in the page.
(function () {
  "use strict";
  var figures = JSON.parse(document.getElementById("charts").textContent);
  var drawing = [];
  document.querySelectorAll("[data-chart]").forEach(function (node) {
    var figure = figures[node.dataset.chart];
    if (figure) {
      drawing.push(Plotly.newPlot(node, figure.data, figure.layout, {displayModeBar: false, responsive: true}));
    }
  });
  Promise.all(drawing).then(function () {
    document.body.dataset.chartsDrawn = String(drawing.length);
  });
})();
