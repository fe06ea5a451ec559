// Progressive enhancement of the console: a step's preview follows its form as it is edited.
(function () {
  "use strict";
  var form = document.querySelector("form[data-preview]");
  var target = document.getElementById("preview");
  if (!form || !target || !window.fetch) { return; }
  var timer = null, sent = 0;
  function refresh() {
    var body = new FormData(form), mine = ++sent;
    body.set("action", "preview");
    fetch(form.getAttribute("action") || location.href, {method: "POST", body: body, headers: {"X-Preview": "1"},
                                         credentials: "same-origin"})
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (mine === sent) {
          target.innerHTML = html;
          document.body.dataset.previews = String(mine);
        }
      });
  }
  form.addEventListener("change", refresh);
  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();
