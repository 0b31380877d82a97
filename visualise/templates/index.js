/* famlink index: sort and filter the table of flagged children. No libraries, no HTML parsing. */
(function () {
  "use strict";
  var rowsData = JSON.parse(document.getElementById("famlink-index").textContent);
  var table = document.getElementById("children");
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var flagSelect = document.getElementById("filter-flag");
  var agencySelect = document.getElementById("filter-agency");
  var count = document.getElementById("shown-count");

  function applyFilter() {
    var flag = flagSelect.value, agency = agencySelect.value, shown = 0;
    rows.forEach(function (tr) {
      var d = rowsData[tr.getAttribute("data-row")];
      var ok = (!flag || d.flag_types.indexOf(flag) >= 0) &&
               (!agency || d.agencies.indexOf(agency) >= 0);
      tr.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = String(shown);
  }
  flagSelect.addEventListener("change", applyFilter);
  agencySelect.addEventListener("change", applyFilter);

  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  heads.forEach(function (th, col) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var key = function (tr) {
        var cell = tr.cells[col];
        var k = cell.getAttribute("data-sort");
        return k !== null ? k : cell.textContent.trim().toLowerCase();
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var nx = Number(x), ny = Number(y);
        var c = (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) ? nx - ny : (x < y ? -1 : x > y ? 1 : 0);
        return ascending ? c : -c;
      });
      rows.forEach(function (tr) { tbody.appendChild(tr); });
    });
  });
  applyFilter();
}());
