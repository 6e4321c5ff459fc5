// The fxbus debug monitor: reads the server-sent events of <prefix>/events
// and renders each publish as a <tbody> of rows: the publish, then its
// handler calls in dispatch order, each followed by the publishes it made,
// indented. Plain JavaScript, no library; DOM built with textContent only,
// so nothing from the stream is ever parsed as HTML.
(function () {
  "use strict";
  var table = document.getElementById("monitor");
  var prefix = table.getAttribute("data-prefix");
  var filter = document.getElementById("filter");
  var pauseBtn = document.getElementById("pause");
  var clearBtn = document.getElementById("clear");
  var status = document.getElementById("status");
  var MAX_GROUPS = 500; // publishes kept on the page
  var MAX_HELD = 500; // publishes held while paused
  var paused = false, held = [], shown = 0, dropped = 0, heldLost = 0;

  function cell(tr, text, cls, header) {
    var td = document.createElement(header ? "th" : "td");
    if (header) td.setAttribute("scope", "row");
    if (cls) td.className = cls;
    if (text !== undefined && text !== null) td.textContent = String(text);
    tr.appendChild(td);
    return td;
  }

  function outcomeCell(tr, o) {
    var td = cell(tr, "", "outcome " + o.outcome.replace(/ /g, "-"));
    var s = o.outcome;
    if (o.errorType) s += ": " + o.errorType;
    if (o.error) s += " (" + o.error + ")";
    td.textContent = s;
  }

  function topics(p, into) {
    into.push(p.topic);
    p.calls.forEach(function (c) { (c.nested || []).forEach(function (n) { topics(n, into); }); });
    return into;
  }

  function matches(group) {
    var f = filter.value.trim().toLowerCase();
    if (!f) return true;
    return group.getAttribute("data-topics").toLowerCase().indexOf(f) >= 0;
  }

  function addPublish(tbody, p, depth) {
    var tr = document.createElement("tr");
    tr.className = "publish depth-" + Math.min(depth, 8);
    tr.setAttribute("data-topic", p.topic);
    cell(tr, p.time, "time");
    var name = cell(tr, "", "name", true);
    name.style.paddingLeft = (0.5 + depth * 2.5) + "em";
    var code = document.createElement("code");
    code.textContent = p.topic;
    name.appendChild(document.createTextNode(depth ? "↳ publish " : "publish "));
    name.appendChild(code);
    if (p.payload && p.payload.length) {
      // What the topic opted in to showing (SpanAttributes); other
      // topics send no payload content at all.
      var pl = document.createElement("span");
      pl.className = "payload";
      pl.textContent = p.payload.map(function (a) { return a.key + "=" + a.value; }).join(" · ");
      name.appendChild(pl);
    }
    cell(tr, "", "num");
    cell(tr, p.handlers === 1 ? "1 handler" : p.handlers + " handlers", "");
    cell(tr, p.duration, "num");
    outcomeCell(tr, p);
    var t = cell(tr, "", "trace");
    if (p.trace) {
      var el;
      if (p.traceURL) {
        el = document.createElement("a");
        el.href = p.traceURL;
        el.rel = "noreferrer";
        el.target = "_blank";
      } else {
        el = document.createElement("code");
      }
      el.textContent = p.trace.slice(0, 8) + "…";
      el.title = "trace " + p.trace;
      t.appendChild(el);
    }
    tbody.appendChild(tr);
    p.calls.forEach(function (c, i) {
      var r = document.createElement("tr");
      r.className = "call depth-" + Math.min(depth, 8) + " " + c.outcome.replace(/ /g, "-");
      r.setAttribute("data-listener", c.listener);
      cell(r, "", "time");
      var n = cell(r, (i + 1) + ". " + c.listener, "name", true);
      n.style.paddingLeft = (2 + depth * 2.5) + "em";
      if (c.source) n.title = c.source;
      cell(r, c.rank, "num");
      cell(r, c.owner, "");
      cell(r, c.outcome === "filtered out" ? "" : c.duration, "num");
      outcomeCell(r, c);
      cell(r, "", "");
      tbody.appendChild(r);
      (c.nested || []).forEach(function (np) { addPublish(tbody, np, depth + 1); });
      if (c.more) note(tbody, c.more + " more publishes by " + c.listener + " not kept");
    });
    if (p.truncated) note(tbody, p.truncated + " more handler calls not kept");
  }

  function note(tbody, text) {
    var tr = document.createElement("tr");
    tr.className = "truncated";
    cell(tr, text, "").colSpan = 7;
    tbody.appendChild(tr);
  }

  function render(p) {
    var tbody = document.createElement("tbody");
    tbody.className = "group" + (p.backlog ? " backlog" : "");
    tbody.setAttribute("data-topics", topics(p, []).join(" "));
    tbody.setAttribute("data-seq", p.seq);
    addPublish(tbody, p, 0);
    tbody.hidden = !matches(tbody);
    table.appendChild(tbody);
    shown++;
    while (table.tBodies.length > MAX_GROUPS) table.removeChild(table.tBodies[0]);
  }

  function setStatus(text) {
    var s = text;
    if (dropped) s += "; " + dropped + " publishes dropped (this page read too slowly)";
    if (heldLost) s += "; " + heldLost + " not held while paused";
    status.textContent = s;
  }

  function onPublish(ev) {
    var p = JSON.parse(ev.data);
    if (p.dropped) dropped = p.dropped;
    if (paused) {
      held.push(p);
      if (held.length > MAX_HELD) { held.shift(); heldLost++; }
      setStatus("paused: " + held.length + " publishes held");
      return;
    }
    render(p);
    setStatus("live: " + shown + " publishes");
  }

  filter.addEventListener("input", function () {
    Array.prototype.forEach.call(table.tBodies, function (g) { g.hidden = !matches(g); });
  });
  document.getElementById("controls").addEventListener("submit", function (e) { e.preventDefault(); });
  pauseBtn.addEventListener("click", function () {
    paused = !paused;
    pauseBtn.setAttribute("aria-pressed", String(paused));
    pauseBtn.textContent = paused ? "Resume" : "Pause";
    if (!paused) {
      held.forEach(render);
      held = [];
      setStatus("live: " + shown + " publishes");
    } else {
      setStatus("paused");
    }
  });
  clearBtn.addEventListener("click", function () {
    while (table.tBodies.length) table.removeChild(table.tBodies[0]);
    held = [];
    shown = 0;
    setStatus(paused ? "paused" : "live: cleared");
  });

  var es = new EventSource(prefix + "/events");
  es.addEventListener("hello", function () { setStatus("live: " + shown + " publishes"); table.setAttribute("data-live", "true"); });
  es.addEventListener("publish", onPublish);
  es.onerror = function () { setStatus("disconnected; reconnecting…"); table.removeAttribute("data-live"); };
})();
