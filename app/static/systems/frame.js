/* The shared frame of the customer and promoter systems: the folding menu and list cards.
 * Plain JavaScript, no framework; the pages work without it (the menu then stays open). */
(function () {
  "use strict";

  function setUpMenu() {
    var toggle = document.querySelector(".menu-toggle");
    var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) return;
    function show(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("is-open", open);
    }
    toggle.addEventListener("click", function () {
      show(toggle.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        show(false);
        toggle.focus();
      }
    });
    // A menu entry without aria-current (e.g. a plain link added to a system's menu): mark it by URL.
    if (!menu.querySelector("[aria-current='page']")) {
      var here = window.location.pathname;
      menu.querySelectorAll(".site-main a[href]").forEach(function (link) {
        if (link.pathname === here) link.setAttribute("aria-current", "page");
      });
    }
  }

  /* Each cell of a list table gets its column's heading as data-label (shown on phone cards),
   * and explicit table roles, which browsers drop when a table is laid out as blocks. */
  function labelTables() {
    document.querySelectorAll("main table.table").forEach(function (table) {
      var head = table.tHead;
      if (!head || !head.rows.length) return;
      var labels = [];
      Array.prototype.forEach.call(head.rows[0].cells, function (th) {
        for (var i = 0; i < (th.colSpan || 1); i++) labels.push(th.textContent.trim());
        th.setAttribute("role", "columnheader");
      });
      table.setAttribute("role", "table");
      Array.prototype.forEach.call(table.querySelectorAll(":scope > thead, :scope > tbody"), function (group) {
        group.setAttribute("role", "rowgroup");
      });
      Array.prototype.forEach.call(table.rows, function (row) {
        row.setAttribute("role", "row");
      });
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (cell.tagName === "TD") {
              cell.setAttribute("role", "cell");
              if (!cell.hasAttribute("data-label") && (cell.colSpan || 1) === 1) {
                cell.setAttribute("data-label", labels[column] || "");
              }
            }
            column += cell.colSpan || 1;
          });
        });
      });
    });
  }

  setUpMenu();
  labelTables();
})();
