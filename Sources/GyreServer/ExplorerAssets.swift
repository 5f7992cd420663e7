/// The explorer's page, script and style sheet, compiled into the server (one binary; Leaflet
/// itself is served from Debian's libjs-leaflet). The script reads only the server's own APIs:
/// /collections and /search (STAC), /datasets (listings and reprs), /tiles (map tiles and a
/// layer's metadata), /colormaps, /edr/.../position (the time series at a click) and
/// /datasets/NAME/plot (an expression's result). `window.gyreExplorer` exposes its state, so
/// that the browser tests can wait for what they check.
enum ExplorerAssets {
    static let page = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Gyre explorer</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/explorer/leaflet/leaflet.css">
    <link rel="stylesheet" href="/explorer/explorer.css">
    </head>
    <body>
    <aside id="side">
      <h1>Gyre explorer</h1>
      <p id="notice" hidden></p>
      <section id="catalog">
        <h2>Catalog</h2>
        <label>Collection <select id="collection"><option value="">all collections</option></select></label>
        <div class="row"><label>From <input type="date" id="from"></label><label>To <input type="date" id="to"></label></div>
        <div class="row"><button id="draw" type="button">Draw a box</button><button id="clear-box" type="button">Clear</button><span id="bbox"></span></div>
        <button id="search" type="button">Search</button>
        <div id="search-status" class="status"></div>
        <ol id="results"></ol>
      </section>
      <section id="data">
        <h2>Datasets</h2>
        <ul id="datasets"></ul>
        <details id="repr-box"><summary>repr</summary><pre id="repr"></pre></details>
        <label>Variable <select id="variable"></select></label>
        <div id="dims"></div>
        <div class="row"><label>Colormap <select id="cmap"></select></label></div>
        <div class="row"><label>Range <input id="range-min" size="7"> to <input id="range-max" size="7"></label><button id="apply-range" type="button">Apply</button></div>
        <div id="colorbar"><canvas id="colorbar-canvas" width="256" height="12"></canvas><div id="colorbar-labels"><span id="cb-min"></span><span id="cb-title"></span><span id="cb-max"></span></div></div>
        <div id="tile-status" class="status"></div>
        <p class="hint">Click the map for the time series at a point.</p>
      </section>
      <section id="expression">
        <h2>Expression</h2>
        <div class="row"><input id="expr" value="sst.mean('time')" spellcheck="false"><button id="plot" type="button">Plot</button></div>
        <div id="expr-status" class="status"></div>
        <img id="expr-image" alt="">
      </section>
    </aside>
    <main>
      <div id="map"></div>
      <div id="series" hidden><button id="series-close" type="button" title="Close">×</button><div id="series-title"></div><svg id="series-svg" width="560" height="220"></svg></div>
    </main>
    <script src="/explorer/leaflet/leaflet.js" onerror="document.getElementById('notice').hidden=false;document.getElementById('notice').textContent='Leaflet is missing on the server: install libjs-leaflet (scripts/setup does).'"></script>
    <script src="/explorer/explorer.js"></script>
    </body>
    </html>
    """#

    static let style = #"""
    * { box-sizing: border-box; }
    html, body { margin: 0; height: 100%; font: 13px/1.4 "DejaVu Sans", system-ui, sans-serif; color: #222; }
    body { display: flex; }
    #side { width: 380px; height: 100vh; overflow-y: auto; padding: 10px 14px; border-right: 1px solid #ccc; background: #fafafa; }
    main { flex: 1; position: relative; }
    #map { position: absolute; inset: 0; background: #dfe6ec; }
    h1 { font-size: 18px; margin: 4px 0 10px; }
    h2 { font-size: 14px; margin: 16px 0 6px; border-bottom: 1px solid #ddd; padding-bottom: 2px; }
    label { display: inline-block; margin: 3px 8px 3px 0; }
    select { max-width: 100%; }
    #collection { width: 340px; }
    #side { overflow-x: hidden; }
    .row { margin: 4px 0; }
    button { margin: 2px 4px 2px 0; }
    button.active { background: #30a2da; color: white; }
    .status { color: #555; min-height: 1.4em; }
    .status.error, #notice { color: #b00; }
    #results { padding-left: 20px; max-height: 220px; overflow-y: auto; margin: 4px 0; }
    #results li { cursor: pointer; }
    #results li:hover, #datasets li:hover { text-decoration: underline; }
    #datasets { padding-left: 18px; margin: 4px 0; }
    #datasets li { cursor: pointer; }
    #datasets li.chosen { font-weight: bold; }
    #repr { font-size: 11px; white-space: pre; overflow-x: auto; background: white; border: 1px solid #ddd; padding: 4px; }
    #dims input[type=range] { width: 220px; vertical-align: middle; }
    #colorbar canvas { width: 100%; height: 14px; border: 1px solid #999; display: block; }
    #colorbar-labels { display: flex; justify-content: space-between; font-size: 11px; }
    #expr { width: 270px; font-family: "DejaVu Sans Mono", monospace; }
    #expr-image { max-width: 100%; margin-top: 6px; }
    #series { position: absolute; right: 12px; bottom: 12px; z-index: 1000; background: white; border: 1px solid #999;
              box-shadow: 0 2px 6px rgba(0,0,0,.3); padding: 6px 8px; }
    #series-close { float: right; }
    #series-title { font-weight: bold; margin-bottom: 2px; }
    .hint { color: #777; font-size: 12px; }
    """#

    static let script = #"""
    "use strict";
    (function () {
      const $ = (id) => document.getElementById(id);
      const state = {
        dataset: null, variable: null, layer: null, meta: null, steps: {}, cmap: "viridis", range: null,
        tilesLoaded: 0, tileErrors: 0, tileURL: null, searchReturned: null, seriesPoints: 0, plotLoaded: false,
        errors: [], bbox: null, ready: false,
      };
      window.gyreExplorer = state;

      function fail(where, message) {
        state.errors.push(where + ": " + message);
        const el = $(where);
        if (el) { el.textContent = message; el.classList.add("error"); }
      }
      function status(where, message) {
        const el = $(where);
        el.textContent = message;
        el.classList.remove("error");
      }
      async function getJSON(url, options) {
        const r = await fetch(url, options);
        const text = await r.text();
        let body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        if (!r.ok) { throw new Error((body && body.description) || (r.status + " " + text.slice(0, 200))); }
        return body;
      }
      const enc = encodeURIComponent;

      if (typeof L === "undefined") { return; }
      const map = L.map("map", { worldCopyJump: true, minZoom: 1, maxZoom: 12 }).setView([20, 0], 2);
      window.gyreMap = map;
      // No base map leaves the machine: a graticule every 30 degrees orients the eye.
      const lines = [];
      for (let lon = -180; lon <= 180; lon += 30) { lines.push([[-85, lon], [85, lon]]); }
      for (let lat = -60; lat <= 60; lat += 30) { lines.push([[lat, -180], [lat, 180]]); }
      L.polyline(lines, { color: "#9aa", weight: 1, interactive: false }).addTo(map);
      const footprints = L.geoJSON(null, {
        style: () => ({ color: "#d0306e", weight: 1.5, fillOpacity: 0.08 }),
        onEachFeature: (f, layer) => {
          // Text nodes, never HTML: ids and properties come from whoever wrote the items.
          const tip = document.createElement("div");
          tip.textContent = String(f.id);
          if (f.properties && f.properties.datetime) { tip.appendChild(document.createElement("br")); tip.appendChild(document.createTextNode(String(f.properties.datetime))); }
          layer.bindTooltip(tip);
        },
      }).addTo(map);
      let boxLayer = null, marker = null;

      // ---- Catalog: collections, a box drawn on the map, a date range, search. ----
      async function loadCollections() {
        try {
          const body = await getJSON("/collections");
          for (const c of body.collections) {
            const o = document.createElement("option");
            o.value = c.id;
            o.textContent = c.title ? c.title + " (" + c.id + ")" : c.id;
            $("collection").appendChild(o);
          }
        } catch (e) { fail("search-status", "collections: " + e.message); }
      }

      let drawing = false, start = null;
      $("draw").addEventListener("click", () => {
        drawing = !drawing;
        $("draw").classList.toggle("active", drawing);
        if (drawing) { map.dragging.disable(); map.getContainer().style.cursor = "crosshair"; }
        else { map.dragging.enable(); map.getContainer().style.cursor = ""; }
      });
      $("clear-box").addEventListener("click", () => {
        state.bbox = null;
        if (boxLayer) { map.removeLayer(boxLayer); boxLayer = null; }
        $("bbox").textContent = "";
      });
      map.on("mousedown", (e) => { if (drawing) { start = e.latlng; } });
      map.on("mousemove", (e) => {
        if (!drawing || !start) { return; }
        const b = L.latLngBounds(start, e.latlng);
        if (boxLayer) { boxLayer.setBounds(b); } else { boxLayer = L.rectangle(b, { color: "#333", weight: 1, dashArray: "4", fill: false }).addTo(map); }
      });
      map.on("mouseup", (e) => {
        if (!drawing || !start) { return; }
        const b = L.latLngBounds(start, e.latlng);
        start = null;
        drawing = false;
        $("draw").classList.remove("active");
        map.dragging.enable();
        map.getContainer().style.cursor = "";
        if (boxLayer) { boxLayer.setBounds(b); } else { boxLayer = L.rectangle(b, { color: "#333", weight: 1, dashArray: "4", fill: false }).addTo(map); }
        const r = (v) => Math.round(v * 1e4) / 1e4;
        state.bbox = [r(Math.max(-180, b.getWest())), r(Math.max(-90, b.getSouth())), r(Math.min(180, b.getEast())), r(Math.min(90, b.getNorth()))];
        $("bbox").textContent = state.bbox.join(", ");
        state.justDrew = true;
      });

      async function search() {
        const body = { limit: 100 };
        const c = $("collection").value;
        if (c) { body.collections = [c]; }
        if (state.bbox) { body.bbox = state.bbox; }
        const from = $("from").value, to = $("to").value;
        if (from || to) { body.datetime = (from ? from + "T00:00:00Z" : "..") + "/" + (to ? to + "T23:59:59Z" : ".."); }
        status("search-status", "searching...");
        try {
          const r = await getJSON("/search", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
          footprints.clearLayers();
          footprints.addData(r.features);
          const list = $("results");
          list.innerHTML = "";
          for (const f of r.features) {
            const li = document.createElement("li");
            const cc = f.properties["eo:cloud_cover"];
            li.textContent = f.id + " " + (f.properties.datetime || "").slice(0, 10) + (cc !== undefined ? " (cloud " + Math.round(cc) + "%)" : "");
            li.addEventListener("click", () => { const l = L.geoJSON(f); map.fitBounds(l.getBounds(), { maxZoom: 8 }); });
            list.appendChild(li);
          }
          state.searchReturned = r.features.length;
          const matched = r.numberMatched !== undefined ? " of " + r.numberMatched + " matched" : "";
          status("search-status", r.features.length + " items" + matched + (r.features.length ? "" : ": widen the box or the dates"));
          if (r.features.length) { map.fitBounds(footprints.getBounds(), { maxZoom: 6, padding: [20, 20] }); }
        } catch (e) { fail("search-status", "search: " + e.message); }
      }
      $("search").addEventListener("click", search);

      // ---- Datasets: listing, repr, a variable's tiles with steps, colormap and range. ----
      async function loadDatasets() {
        try {
          const body = await getJSON("/datasets");
          const list = $("datasets");
          for (const d of body.datasets) {
            const li = document.createElement("li");
            li.textContent = d.id + (d.description ? ": " + d.description : "");
            li.dataset.id = d.id;
            li.addEventListener("click", () => chooseDataset(d.id));
            list.appendChild(li);
          }
          if (body.datasets.length) { await chooseDataset(body.datasets[0].id); }
          else { status("tile-status", "no datasets are served (gyre serve --dataset NAME=PATH)"); }
        } catch (e) { fail("tile-status", "datasets: " + e.message); }
      }

      async function chooseDataset(id) {
        state.dataset = id;
        for (const li of $("datasets").children) { li.classList.toggle("chosen", li.dataset.id === id); }
        try {
          const r = await fetch("/datasets/" + enc(id) + "?f=text");
          $("repr").textContent = await r.text();
          const d = await getJSON("/datasets/" + enc(id));
          const sel = $("variable");
          sel.innerHTML = "";
          const gridded = Object.values(d.data_vars).some((v) => v.dims.length >= 2);
          for (const [name, v] of Object.entries(d.data_vars)) {
            if (gridded && v.dims.length < 2) { continue; }
            const o = document.createElement("option");
            o.value = name;
            o.textContent = name + " (" + v.dims.join(", ") + ")";
            sel.appendChild(o);
          }
          const first = Object.keys(d.data_vars)[0];
          if (!$("expr").dataset.touched && first) { $("expr").value = first + ".mean('" + (d.data_vars[first].dims[0] || "") + "')"; }
          if (sel.value) { await chooseVariable(sel.value); }
          else { status("tile-status", id + " has no variable to draw on the map"); }
        } catch (e) { fail("tile-status", id + ": " + e.message); }
      }
      $("variable").addEventListener("change", () => chooseVariable($("variable").value));
      $("expr").addEventListener("input", () => { $("expr").dataset.touched = "1"; });

      async function chooseVariable(name) {
        state.variable = name;
        try {
          const meta = await getJSON("/tiles/" + enc(state.dataset) + "/" + enc(name));
          state.meta = meta;
          state.steps = {};
          state.range = null;
          $("range-min").value = ""; $("range-max").value = "";
          const dims = $("dims");
          dims.innerHTML = "";
          for (const dim of meta.dims) {
            state.steps[dim.name] = 0;
            const label = document.createElement("label");
            const text = document.createElement("span");
            const slider = document.createElement("input");
            slider.type = "range"; slider.min = 0; slider.max = Math.max(0, dim.size - 1); slider.value = 0; slider.id = "step-" + dim.name;
            const show = () => { text.textContent = dim.name + " = " + (dim.labels.length ? dim.labels[slider.value] : slider.value) + " "; };
            show();
            slider.addEventListener("input", show);
            slider.addEventListener("change", () => { state.steps[dim.name] = Number(slider.value); updateTiles(); });
            label.appendChild(text); label.appendChild(slider);
            dims.appendChild(label);
          }
          if (meta.range) {
            state.range = meta.range.slice();
            $("range-min").value = +meta.range[0].toPrecision(4);
            $("range-max").value = +meta.range[1].toPrecision(4);
          }
          const cm = $("cmap");
          if (!cm.options.length) {
            for (const c of meta.colormaps) { const o = document.createElement("option"); o.value = c; o.textContent = c; cm.appendChild(o); }
            cm.value = state.cmap;
          }
          updateTiles();
        } catch (e) { fail("tile-status", name + ": " + e.message); }
      }

      function stepLabel(dim) {
        const d = state.meta.dims.find((x) => x.name === dim);
        const i = state.steps[dim];
        return d.labels.length ? String(d.labels[i]) : "@" + i;
      }

      function tileURL() {
        const q = [];
        for (const dim of state.meta.dims) { q.push(enc(dim.name) + "=" + enc(stepLabel(dim.name))); }
        q.push("cmap=" + enc(state.cmap));
        if (state.range) {
          q.push("range=" + state.range.join(","));
          // Point tiles equalize their histogram by default, which takes no range.
          if (state.meta.kind === "points") { q.push("how=linear"); }
        }
        return state.meta.tiles + "?" + q.join("&");
      }

      async function updateTiles() {
        const url = tileURL();
        state.tileURL = url;
        state.tilesLoaded = 0;
        state.tileErrors = 0;
        if (state.layer) { state.layer.setUrl(url); }
        else {
          state.layer = L.tileLayer(url, { tileSize: 256, opacity: 0.9, maxZoom: 12, attribution: "Gyre" });
          state.layer.on("tileload", () => { state.tilesLoaded += 1; status("tile-status", state.variable + ": " + state.tilesLoaded + " tiles"); });
          state.layer.on("tileerror", () => { state.tileErrors += 1; fail("tile-status", state.variable + ": a tile failed to load"); });
          state.layer.addTo(map);
          footprints.bringToFront();
        }
        await drawColorbar();
      }

      $("cmap").addEventListener("change", () => { state.cmap = $("cmap").value; updateTiles(); });
      $("apply-range").addEventListener("click", () => {
        const lo = parseFloat($("range-min").value), hi = parseFloat($("range-max").value);
        if (!(isFinite(lo) && isFinite(hi) && hi > lo)) { fail("tile-status", "the range needs two numbers, the first smaller"); return; }
        state.range = [lo, hi];
        updateTiles();
      });

      async function drawColorbar() {
        try {
          const c = await getJSON("/colormaps/" + enc(state.cmap));
          const canvas = $("colorbar-canvas"), g = canvas.getContext("2d");
          const w = canvas.width;
          for (let i = 0; i < w; i++) {
            g.fillStyle = c.colors[Math.floor(i / w * c.colors.length)];
            g.fillRect(i, 0, 1, canvas.height);
          }
          const units = state.meta.units ? " [" + state.meta.units + "]" : "";
          $("cb-min").textContent = state.range ? +state.range[0].toPrecision(4) : "";
          $("cb-max").textContent = state.range ? +state.range[1].toPrecision(4) : "";
          $("cb-title").textContent = state.meta.long_name + units;
        } catch (e) { fail("tile-status", "colormap: " + e.message); }
      }

      // ---- A click on the map: the time series there, from EDR position. ----
      map.on("click", async (e) => {
        if (state.justDrew) { state.justDrew = false; return; }
        if (drawing || !state.dataset || !state.variable) { return; }
        const lon = L.Util.wrapNum(e.latlng.lng, [-180, 180]), lat = e.latlng.lat;
        if (marker) { marker.setLatLng(e.latlng); } else { marker = L.circleMarker(e.latlng, { radius: 5, color: "#000" }).addTo(map); }
        const url = "/edr/collections/" + enc(state.dataset) + "/position?coords=" + enc("POINT(" + lon.toFixed(4) + " " + lat.toFixed(4) + ")")
          + "&parameter-name=" + enc(state.variable);
        try { drawSeries(await getJSON(url), lon, lat); } catch (err) { fail("tile-status", "time series: " + err.message); }
      });
      $("series-close").addEventListener("click", () => { $("series").hidden = true; });

      function drawSeries(cov, lon, lat) {
        const values = cov.ranges[state.variable].values;
        const t = cov.domain.axes.t ? cov.domain.axes.t.values.map((s) => Date.parse(s)) : values.map((_, i) => i);
        const svg = $("series-svg"), W = +svg.getAttribute("width"), H = +svg.getAttribute("height");
        const m = { l: 50, r: 10, t: 8, b: 24 };
        const pts = [];
        let lo = Infinity, hi = -Infinity;
        values.forEach((v, i) => { if (v !== null && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
        $("series").hidden = false;
        const units = state.meta && state.meta.units ? " [" + state.meta.units + "]" : "";
        $("series-title").textContent = state.variable + units + " at " + lat.toFixed(2) + "°, " + lon.toFixed(2) + "°";
        svg.innerHTML = "";
        if (!(lo <= hi)) { svg.innerHTML = '<text x="20" y="40">no values here (land or outside the grid)</text>'; state.seriesPoints = 0; return; }
        if (lo === hi) { lo -= 1; hi += 1; }
        const t0 = t[0], t1 = t[t.length - 1] === t0 ? t0 + 1 : t[t.length - 1];
        const X = (x) => m.l + (x - t0) / (t1 - t0) * (W - m.l - m.r), Y = (y) => H - m.b - (y - lo) / (hi - lo) * (H - m.t - m.b);
        let d = "", pen = false;
        values.forEach((v, i) => {
          if (v === null || !isFinite(v)) { pen = false; return; }
          d += (pen ? "L" : "M") + X(t[i]).toFixed(1) + "," + Y(v).toFixed(1);
          pen = true;
          pts.push(v);
        });
        const ns = "http://www.w3.org/2000/svg";
        const add = (tag, attrs, text) => { const el = document.createElementNS(ns, tag); for (const k in attrs) { el.setAttribute(k, attrs[k]); } if (text !== undefined) { el.textContent = text; } svg.appendChild(el); return el; };
        add("rect", { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, fill: "none", stroke: "#888" });
        add("path", { d: d, fill: "none", stroke: "#30a2da", "stroke-width": 1.5, id: "series-line" });
        for (const v of [lo, (lo + hi) / 2, hi]) { add("text", { x: m.l - 4, y: Y(v) + 4, "text-anchor": "end", "font-size": 10 }, +v.toPrecision(4)); }
        if (cov.domain.axes.t) {
          const fmt = (ms) => new Date(ms).toISOString().slice(0, 10);
          add("text", { x: m.l, y: H - 6, "font-size": 10 }, fmt(t0));
          add("text", { x: W - m.r, y: H - 6, "font-size": 10, "text-anchor": "end" }, fmt(t1));
        }
        state.seriesPoints = pts.length;
      }

      // ---- An expression, computed next to the data and drawn by /datasets/NAME/plot. ----
      async function plotExpression() {
        if (!state.dataset) { fail("expr-status", "choose a dataset first"); return; }
        const expr = $("expr").value;
        status("expr-status", "computing " + expr + " ...");
        state.plotLoaded = false;
        try {
          const r = await fetch("/datasets/" + enc(state.dataset) + "/plot?width=720&height=450&expr=" + enc(expr));
          if (!r.ok) { const b = await r.json().catch(() => ({})); throw new Error(b.description || String(r.status)); }
          const blob = await r.blob();
          const img = $("expr-image");
          img.onload = () => { state.plotLoaded = true; status("expr-status", expr); };
          img.src = URL.createObjectURL(blob);
        } catch (e) { fail("expr-status", e.message); }
      }
      $("plot").addEventListener("click", plotExpression);
      $("expr").addEventListener("keydown", (e) => { if (e.key === "Enter") { plotExpression(); } });

      Promise.all([loadCollections(), loadDatasets()]).then(() => { state.ready = true; });
    })();
    """#
}
