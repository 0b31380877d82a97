/* famlink family view: draws the network and fills the side panel.
   All data arrive as JSON and are written with textContent only: nothing is parsed as HTML. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("famlink-data").textContent);
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var network = new vis.Network(
    document.getElementById("network"), { nodes: nodes, edges: edges }, data.options);
  window.famlinkView = { network: network, nodes: nodes, edges: edges };
  network.once("afterDrawing", function () {
    network.fit();
    document.body.setAttribute("data-drawn", "true");
  });

  var title = document.getElementById("panel-title");
  var body = document.getElementById("panel-body");
  var help = body.cloneNode(true);

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function facts(pairs) {
    var dl = el("dl");
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === "") { return; }
      dl.appendChild(el("dt", p[0]));
      dl.appendChild(el("dd", p[1]));
    });
    return dl;
  }
  function cards(head, rows) {
    /* one block per row: the panel is too narrow for a wide table */
    var box = el("div");
    if (!rows.length) { box.appendChild(el("p", "None recorded.", "muted")); }
    rows.forEach(function (r) {
      var card = facts(head.map(function (h, i) { return [h, r[i]]; }));
      card.className = "card";
      box.appendChild(card);
    });
    return box;
  }
  function show(heading, parts) {
    title.textContent = heading;
    while (body.firstChild) { body.removeChild(body.firstChild); }
    parts.forEach(function (p) { body.appendChild(p); });
  }
  function showPerson(id) {
    var p = data.people[id];
    if (!p) { return; }
    show(p.name, [
      facts(p.facts),
      el("h3", "Records by agency"),
      cards(data.record_columns, p.records)
    ]);
  }
  function showLink(id) {
    var l = data.links[id];
    if (!l) { return; }
    show(l.heading, [facts(l.facts), el("h3", "Evidence"), cards(data.evidence_columns, l.evidence)]);
  }
  network.on("click", function (params) {
    if (params.nodes.length) { showPerson(params.nodes[0]); }
    else if (params.edges.length) { showLink(params.edges[0]); }
    else { show("Details", Array.prototype.slice.call(help.cloneNode(true).childNodes)); }
  });
}());
