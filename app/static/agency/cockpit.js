// The agency start page loads its second half (conflicts, the week per project) after the first.
(function () {
  "use strict";
  var box = document.getElementById("cockpit-week");
  if (!box || !window.fetch) { return; }
  fetch(box.getAttribute("data-url"), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.text();
    })
    .then(function (html) { box.innerHTML = html; })
    .catch(function () {
      var line = box.querySelector("p");
      line.textContent = box.getAttribute("data-error");
      line.className = "text-danger";
    });
})();
