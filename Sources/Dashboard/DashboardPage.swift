// DashboardPage: the live page at `/`, one self-contained HTML document (inline CSS and script, no fetches of
// libraries). It carries the state as of the request, so the first paint needs no further round trip, then
// applies the event stream's deltas; on `reset` (a restarted coordinator, or a stream too far behind) it loads
// everything again from the JSON API.
enum DashboardPage {
    /// The page with `initial` (JSON: `status`, `cells`, `results`) in it, and the F1-vs-sparsity plot drawn in
    /// already when there is one (the page then fetches it again only when new results bring points).
    static func html(initial: String, plot: String? = nil) -> String {
        // Inside <script>, "</" would end the element: JSON allows "<\/" for it.
        let drawn = plot.flatMap { $0.isEmpty ? nil : "<div id=\"plot\">\($0)</div>" }
        return head.replacingOccurrences(of: plotSlot, with: drawn ?? noPlot)
            + initial.replacingOccurrences(of: "</", with: "<\\/") + tail
    }

    /// Where `head` takes the plot: drawn, or the placeholder the page's script replaces once results bring points.
    static let plotSlot = "<!--plot-->"
    static let noPlot = "<div id=\"plot\" class=\"muted\">no results with F1 and sparsity yet</div>"

    static let head = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>smaller dashboard</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>
    body{font:14px system-ui,sans-serif;margin:1.2em;color:#222}
    h1{font-size:1.3em;margin:0 0 .3em} h2{font-size:1.05em;margin:1.2em 0 .4em}
    table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}
    .bar{height:14px;background:#eee;width:100%;max-width:720px;display:flex}
    .bar span{display:block;height:100%}
    .done{background:#009E73;color:#fff} .leased{background:#56B4E9} .failed{background:#D55E00;color:#fff}
    .skipped{background:#999;color:#fff} .pending{background:#f3f3f3}
    #conn{float:right;font-size:.9em} .muted{color:#777} pre{white-space:pre-wrap;max-height:12em;overflow:auto;background:#f7f7f7}
    td a{color:inherit} #held{padding:2px 6px;margin:.3em 0;max-width:720px}
    #cancel{margin-top:.4em} .scroll{max-width:100%;overflow-x:auto} #grid th{white-space:nowrap;max-width:22em;overflow:hidden;text-overflow:ellipsis}
    </style></head><body>
    <div id="conn" class="muted">connecting…</div>
    <h1 id="title">smaller</h1>
    <div id="summary"></div>
    <div id="held" class="failed" hidden></div>
    <div class="bar" id="bar"></div>
    <button id="cancel" hidden>stop the grid</button>
    <h2>Workers</h2><table id="workers"></table>
    <h2 id="gridtitle">Grid (language × setting)</h2><div class="scroll"><table id="grid"></table></div>
    <h2>Failures</h2><div id="failures" class="muted">none</div>
    <h2>F1 vs sparsity</h2><!--plot-->
    <h2>Results <span id="rcount" class="muted"></span></h2><table id="results"></table>
    <script id="initial" type="application/json">
    """

    static let tail = """
    </script>
    <script>
    "use strict";
    const token = new URLSearchParams(location.search).get("token");
    const api = p => token ? p + (p.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : p;
    const states = ["pending", "leased", "done", "failed", "skipped"];
    let cells = new Map(), results = [], source = null, plotTimer = null, plotted = 0, runFinished = false;
    const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
    const dur = s => s == null ? "–" : s < 90 ? s.toFixed(1) + " s" : s < 5400 ? (s / 60).toFixed(1) + " min" : (s / 3600).toFixed(1) + " h";
    // A worker's CPU seconds so far, and the share of one core it used between its last two heartbeats.
    const cpu = r => r.cpuSeconds == null ? "–" : r.cpuSeconds.toFixed(1) + " s" +
      (r.cpuCores == null ? "" : " (" + (100 * r.cpuCores).toFixed(0) + " %)");
    // Redraws at most ten times a second, however fast the events come.
    const queued = new Set();
    const later = f => { if (!queued.has(f)) { queued.add(f); setTimeout(() => { queued.delete(f); f(); }, 100); } };
    async function get(p) { const r = await fetch(api(p)); if (!r.ok) throw new Error(p + ": " + r.status); return r.json(); }

    function summary(s) {
      document.getElementById("title").textContent = "smaller · " + s.job + " · " + s.run;
      const t = s.tasks, finished = t.done + t.failed + t.skipped;
      document.getElementById("summary").innerHTML =
        `<b>${finished}</b> of <b>${s.total}</b> tasks finished (${states.map(k => k + " " + t[k]).join(", ")}) · ` +
        `rate ${s.ratePerMinute.toFixed(1)}/min · ETA ${s.finished ? "finished" : dur(s.etaSeconds)} · ${s.results} results · ` +
        `<span id="coordinator">coordinator pid ${s.coordinatorPid}${s.startedAt ? " since " + new Date(1000 * s.startedAt).toLocaleTimeString() : ""}` +
        `${s.resumed ? " (resumed)" : ""}</span>`;
      runFinished = s.finished;
      const held = document.getElementById("held");
      held.hidden = !s.held;
      held.textContent = s.held ? "Paused: " + s.held : "";
      document.getElementById("bar").innerHTML = ["done", "skipped", "failed", "leased"].map(k =>
        `<span class="${k}" style="width:${s.total ? 100 * t[k] / s.total : 0}%" title="${k} ${t[k]}"></span>`).join("");
      const w = document.getElementById("workers");
      w.innerHTML = "<tr><th>worker</th><th>host</th><th>pid</th><th>threads</th><th>state</th><th>task</th><th>elapsed</th>" +
        "<th>heartbeat age</th><th>done</th><th>CPU</th><th>RSS</th></tr>" + s.workers.map(r =>
        `<tr class="worker"><td>${esc(r.id)}</td><td>${esc(r.host)}</td><td>${r.pid ?? "–"}</td><td>${r.threads ?? "–"}</td>` +
        `<td>${esc(r.state)}</td><td>${esc(r.task ?? "")}${r.progress != null ? " (" + (100 * r.progress).toFixed(0) + " %)" : ""}</td>` +
        `<td>${dur(r.taskSeconds)}</td><td>${r.lastHeartbeatAgo.toFixed(1)} s</td><td>${r.done}</td>` +
        `<td class="cpu">${cpu(r)}</td><td class="rss">${r.residentBytes == null ? "–" : (r.residentBytes / 1048576).toFixed(0) + " MB"}</td></tr>`).join("");
      const f = document.getElementById("failures");
      f.className = s.failed.length ? "" : "muted";
      f.innerHTML = s.failed.length ? s.failed.map(x => `<details><summary class="failed">${esc(x.title)}: ${esc(x.error)}</summary>` +
        `<pre>${esc(x.logTail || "(no log)")}</pre></details>`).join("") : "none";
    }

    function cellState(c) {
      const t = c.tasks, n = states.reduce((a, k) => a + (t[k] || 0), 0);
      if (t.failed) return "failed";
      if (t.leased) return "leased";
      if ((t.done || 0) + (t.skipped || 0) === n) return t.done ? "done" : "skipped";
      return "pending";
    }
    // Languages down the side and settings across; when that is wider than the page and settings outnumber
    // languages (a curve of 14 settings on one language), the other way round, so the grid grows down instead.
    // Headers are cut to a width with the full label as a tooltip; the box scrolls sideways if it still does not fit.
    function grid() {
      const langs = [...new Set([...cells.values()].map(c => c.row))], settings = [...new Set([...cells.values()].map(c => c.column))];
      drawGrid(langs, settings, false);
      const box = document.getElementById("grid").parentElement;
      if (box.scrollWidth > box.clientWidth && settings.length > langs.length) drawGrid(langs, settings, true);
    }
    function drawGrid(langs, settings, flip) {
      const rows = flip ? settings : langs, cols = flip ? langs : settings;
      document.getElementById("gridtitle").textContent = flip ? "Grid (setting × language)" : "Grid (language × setting)";
      const head = x => `<th title="${esc(x)}">${esc(x)}</th>`;
      document.getElementById("grid").innerHTML = "<tr><th></th>" + cols.map(head).join("") + "</tr>" +
        rows.map(x => "<tr>" + head(x) + cols.map(y => {
          const [r, col] = flip ? [y, x] : [x, y], c = cells.get(r + "\\u0001" + col);
          if (!c) return "<td></td>";
          const t = c.tasks, n = states.reduce((a, k) => a + (t[k] || 0), 0), st = cellState(c);
          const link = api("/api/results?" + (r === "–" ? "" : "language=" + encodeURIComponent(r) + "&") + "setting=" + encodeURIComponent(col));
          return `<td class="cell ${st}" data-state="${st}"><a href="${link}">${t.done || 0}/${n}</a></td>`;
        }).join("") + "</tr>").join("");
    }

    function resultRows() {
      document.getElementById("rcount").textContent = "(" + results.length + ")";
      document.getElementById("results").innerHTML = "<tr><th>task</th><th>language</th><th>setting</th><th>seed</th>" +
        "<th>test F1</th><th>sparsity</th><th>run time</th><th>worker</th></tr>" + results.slice(-200).reverse().map(r =>
        `<tr><td>${esc(r.title)}</td><td>${esc(r.language ?? "")}</td><td>${esc(r.setting ?? "")}</td><td>${r.seed ?? ""}</td>` +
        `<td>${r.f1 != null ? (100 * r.f1).toFixed(1) : ""}</td><td>${r.sparsity != null ? (100 * r.sparsity).toFixed(0) + " %" : ""}</td>` +
        `<td>${dur(r.seconds)}</td><td>${esc(r.worker)}</td></tr>`).join("");
      const withPoint = results.filter(r => r.f1 != null && r.sparsity != null && r.language).length;
      if (withPoint > plotted && !plotTimer) plotTimer = setTimeout(plot, 1000);
    }
    async function plot() {
      plotTimer = null;
      const r = await fetch(api("/api/plot.svg"));
      const svg = await r.text();
      plotted = results.filter(r => r.f1 != null && r.sparsity != null && r.language).length;
      if (svg) { const p = document.getElementById("plot"); p.className = ""; p.innerHTML = svg; }
    }

    function show(s, c, r) {
      cells = new Map(c.map(x => [x.row + "\\u0001" + x.column, x]));
      results = r;
      summary(s); grid(); resultRows();
      connect(s.lastEvent);
    }
    async function load() {
      if (source) source.close();
      const [s, c] = await Promise.all([get("/api/status"), get("/api/cells")]);
      const last = Math.max(1, Math.ceil(s.results / 500));
      const p = await get("/api/results?per_page=500&page=" + last);
      show(s, c, p.items);
    }
    function connect(after) {
      source = new EventSource(api("/events?after=" + encodeURIComponent(after)));
      const conn = document.getElementById("conn");
      source.onopen = () => { conn.textContent = "live"; conn.className = "muted"; };
      // The browser reconnects by itself after a broken stream (a coordinator restarting: the new one answers
      // with `reset`); only a stream it gave up on (an error reply) is reopened here, by loading everything.
      source.onerror = () => {
        conn.textContent = runFinished ? "run finished; the coordinator has stopped" : "reconnecting…";
        conn.className = runFinished ? "muted" : "failed";
        if (source.readyState === EventSource.CLOSED && !runFinished) { source.close(); retry(); }
      };
      source.addEventListener("status", e => summary(JSON.parse(e.data)));
      source.addEventListener("task", e => {
        const d = JSON.parse(e.data), key = d.row + "\\u0001" + d.column, c = cells.get(key);
        if (!c) return;
        c.tasks[d.from] = (c.tasks[d.from] || 0) - 1;
        c.tasks[d.state] = (c.tasks[d.state] || 0) + 1;
        later(grid);
      });
      source.addEventListener("result", e => { results.push(JSON.parse(e.data)); later(resultRows); });
      source.addEventListener("reset", () => { source.close(); load().catch(retry); });
    }
    function retry() { document.getElementById("conn").textContent = "coordinator unreachable; retrying…"; setTimeout(() => load().catch(retry), 2000); }
    // Only a page opened with the token has the cancel action (the server refuses it without one, even on loopback).
    if (token) {
      const b = document.getElementById("cancel");
      b.hidden = false;
      b.onclick = async () => {
        if (!confirm("Stop the grid? Running tasks are given back; the run directory resumes.")) return;
        b.disabled = true;
        const r = await fetch(api("/api/cancel"), {method: "POST"}).catch(() => null);
        b.textContent = r && r.ok ? "stopping…" : "cancel failed" + (r ? ": " + r.status : "");
      };
    }
    const initial = JSON.parse(document.getElementById("initial").textContent);
    if (!document.getElementById("plot").classList.contains("muted")) {
      plotted = initial.results.filter(r => r.f1 != null && r.sparsity != null && r.language).length;
    }
    show(initial.status, initial.cells, initial.results);
    </script></body></html>
    """
}
