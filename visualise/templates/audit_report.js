/* famlink audit report: click a column heading to sort its table. No libraries. */
(function () {
  "use strict";
  document.querySelectorAll("table.sortable").forEach(function (table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var body = table.tBodies[0];
    heads.forEach(function (th, col) {
      th.querySelector("button").addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var key = function (tr) {
          var cell = tr.cells[col];
          return cell.getAttribute("data-sort") || cell.textContent;
        };
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          return (ascending ? 1 : -1) * key(a).localeCompare(key(b), undefined, {numeric: true});
        });
        rows.forEach(function (tr) { body.appendChild(tr); });
      });
    });
  });
}());
