// The node's live page: one EventSource (/events) pushes history, events and a
// status every second; actions POST with the token as a Bearer header. Text from
// the network goes in with textContent, never innerHTML.
"use strict";
const $ = id => document.getElementById(id);
const state = { selected: null, status: null, samples: [], updates: 0, token: "" };

function human(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : Math.round(n)) + " " + u[i];
}
const rate = n => human(n) + "/s";
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function cell(tr, text, cls) { const td = el("td", text, cls); tr.appendChild(td); return td; }

// ---- token: from #token=... once (then dropped from the address bar), or typed ----
(function () {
  const m = /token=([0-9a-f]{64})/.exec(location.hash);
  if (m) { sessionStorage.setItem("p2p-token", m[1]); history.replaceState(null, "", location.pathname); }
  state.token = sessionStorage.getItem("p2p-token") || "";
  $("token").value = state.token;
  $("token").addEventListener("change", e => { state.token = e.target.value.trim(); sessionStorage.setItem("p2p-token", state.token); });
})();

async function act(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "Authorization": "Bearer " + state.token,
    "Content-Type": "application/json" }, body: body ? JSON.stringify(body) : "" });
  const j = await r.json().catch(() => ({}));
  $("msg").textContent = r.ok ? (j.message || "done") : ("refused (" + r.status + "): " + (j.error || r.statusText));
}

// ---- drawing ----
function drawChart() {
  const c = $("chart"), ctx = c.getContext("2d");
  const w = c.width = c.clientWidth * devicePixelRatio, h = c.height = c.clientHeight * devicePixelRatio;
  ctx.clearRect(0, 0, w, h);
  const s = state.samples; if (!s.length) return;
  const max = Math.max(1, ...s.map(x => Math.max(x[1], x[2])));
  const n = 300, dx = w / (n - 1);
  for (const [i, color] of [[1, "#1f77b4"], [2, "#2ca02c"]]) {
    ctx.beginPath(); ctx.strokeStyle = color; ctx.lineWidth = 2 * devicePixelRatio;
    s.forEach((x, k) => { const px = (n - s.length + k) * dx, py = h - 4 - (h - 20) * x[i] / max;
      k ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
    ctx.stroke();
  }
  ctx.fillStyle = "#666"; ctx.font = (11 * devicePixelRatio) + "px sans-serif";
  ctx.fillText("max " + rate(max), 6, 13 * devicePixelRatio);
}
function drawMap(canvas, hex) {
  const cells = hex.length / 2, ctx = canvas.getContext("2d");
  canvas.width = Math.max(cells, 1); canvas.height = 1;
  for (let i = 0; i < cells; i++) {
    const v = parseInt(hex.substr(2 * i, 2), 16) / 255;
    ctx.fillStyle = v >= 1 ? "#1f77b4" : v > 0 ? "rgba(31,119,180," + (0.25 + 0.6 * v) + ")" : "#eee";
    ctx.fillRect(i, 0, 1, 1);
  }
}

// ---- status ----
function renderStatus(st) {
  state.status = st;
  $("kind").textContent = "p2p-" + st.node.kind;
  document.title = "p2p-" + st.node.kind + " · " + rate(st.node.download_rate) + " ↓ " + rate(st.node.upload_rate) + " ↑";
  $("down").textContent = rate(st.node.download_rate);
  $("up").textContent = rate(st.node.upload_rate);
  $("nfiles").textContent = st.files.length;
  $("npeers").textContent = st.files.reduce((a, f) => a + f.peers, 0);
  $("hashq").textContent = st.node.hash_queue_depth;
  $("wlat").textContent = (st.node.avg_write_seconds * 1000).toFixed(1) + " ms";
  $("add").hidden = !st.node.can_add;
  $("dl").hidden = !st.node.can_download;
  $("knowntrackers").textContent = st.node.trackers && st.node.trackers.length
    ? "an info hash is looked up on " + st.node.trackers.join(", ") : "";
  // Reachable from outside our network only through a mapping on the gateway; else say why not.
  const pm = st.node.port_mapping;
  if (pm) {
    $("reach").textContent = pm.reachable ? pm.external : pm.state === "trying" ? "asking…" : pm.state === "off" ? "off" : "no";
    $("reachwhy").textContent = pm.reachable ? " via " + pm.method : pm.why_not ? " " + pm.why_not : "";
  }
  const reach = st.node.reachability || [];
  $("reachlines").hidden = reach.length === 0;
  $("reachlines").textContent = reach.join(" · ");
  const tb = $("files").tBodies[0]; tb.replaceChildren();
  if (!state.selected && st.files.length) state.selected = st.files[0].info_hash;
  for (const f of st.files) {
    const tr = el("tr"); tr.dataset.ih = f.info_hash;
    if (f.info_hash === state.selected) tr.className = "sel";
    const nm = cell(tr, f.name);
    // A finished download says where it is on disk.
    if (f.path) { const w = el("span", "→ " + f.path, "where"); nm.appendChild(w); }
    const p = cell(tr, ""); const pct = (100 * f.progress).toFixed(1);
    const bar = el("span", undefined, "bar"); const fill = el("i"); fill.style.width = pct + "%"; bar.appendChild(fill);
    p.appendChild(bar); const t = el("span", " " + pct + " %", "progress"); t.dataset.value = f.progress; p.appendChild(t);
    const m = el("canvas", undefined, "map"); drawMap(m, f.piece_map); cell(tr, "").appendChild(m);
    cell(tr, rate(f.download_rate), "num"); cell(tr, rate(f.upload_rate), "num");
    cell(tr, f.peers, "num");
    const place = f.download && f.phase !== "complete" ? " (place " + f.download.position + ")" : "";
    cell(tr, f.phase + place + (f.error ? ": " + f.error : ""), "phase");
    cell(tr, f.limited_by.text, "limit").dataset.kind = f.limited_by.kind;
    const a = cell(tr, "");
    const toggle = el("button", f.phase === "paused" || f.phase === "failed" ? "resume" : "pause");
    toggle.onclick = e => { e.stopPropagation(); act("/api/files/" + f.info_hash + "/" + toggle.textContent); };
    const rm = el("button", "remove");
    rm.onclick = e => { e.stopPropagation(); if (confirm("Stop and remove " + f.name + "? (files on disk stay)")) act("/api/files/" + f.info_hash + "/remove"); };
    a.append(toggle, " ", rm);
    if (f.download && f.phase !== "complete") {
      for (const [dir, label] of [["up", "↑"], ["down", "↓"]]) {
        const b = el("button", label); b.title = "move " + dir + " in the queue"; b.dataset.move = dir;
        b.onclick = e => { e.stopPropagation(); act("/api/downloads/" + f.info_hash + "/" + dir); };
        a.append(" ", b);
      }
    }
    tr.onclick = () => { state.selected = f.info_hash; renderStatus(state.status); };
    tb.appendChild(tr);
  }
  renderDetail(st.files.find(f => f.info_hash === state.selected));
}
function renderDetail(f) {
  $("detail").hidden = !f; if (!f) return;
  $("dname").textContent = f.name; $("dhash").textContent = f.info_hash;
  $("dknown").textContent = f.known_peers; $("dlimit").textContent = f.limited_by.text;
  const tb = $("peers").tBodies[0]; tb.replaceChildren();
  for (const p of f.peer_list || []) {
    const tr = el("tr"); tr.dataset.address = p.address;
    cell(tr, p.address); cell(tr, p.origin);
    cell(tr, rate(p.download_rate), "num"); cell(tr, rate(p.upload_rate), "num");
    cell(tr, (100 * p.share).toFixed(0) + " %", "num");
    cell(tr, p.am_choking ? "yes" : "no"); cell(tr, p.peer_choking ? "yes" : "no");
    cell(tr, (p.am_interested ? "we" : "") + (p.am_interested && p.peer_interested ? ", " : "") + (p.peer_interested ? "they" : "") || "-");
    cell(tr, p.reputation.toFixed(0), "num");
    tb.appendChild(tr);
  }
  const ul = $("banned"); ul.replaceChildren();
  for (const b of f.banned) ul.appendChild(el("li", b.peer + ": " + b.reason));
  if (!f.banned.length) ul.appendChild(el("li", "none", "muted"));
}
function addEvent(e) {
  const li = el("li"); li.dataset.kind = e.kind;
  li.appendChild(el("time", new Date(e.time_ms).toLocaleTimeString()));
  li.appendChild(el("span", e.kind, "kind " + e.kind));
  li.appendChild(el("span", (e.file ? e.file + ": " : "") + e.text));
  const ul = $("events"); ul.prepend(li);
  while (ul.children.length > 100) ul.lastChild.remove();
}

// ---- the stream ----
function connect() {
  const es = new EventSource("/events");
  es.addEventListener("history", m => { state.samples = JSON.parse(m.data).samples; drawChart(); });
  es.addEventListener("rate", m => { state.samples.push(JSON.parse(m.data)); if (state.samples.length > 300) state.samples.shift(); drawChart(); });
  es.addEventListener("log", m => addEvent(JSON.parse(m.data)));
  es.addEventListener("status", m => {
    renderStatus(JSON.parse(m.data));
    const live = $("live"); live.dataset.updates = ++state.updates;
    live.textContent = "live"; live.className = "pill on";
  });
  es.onerror = () => { $("live").textContent = "reconnecting…"; $("live").className = "pill"; };
  es.onopen = () => { $("events").replaceChildren(); };
}
// ---- downloads: a meta dropped or chosen (sent as its JSON), or an info hash ----
function only() { return $("addonly").value.split(",").map(x => x.trim()).filter(x => x); }
async function sendMeta(file) {
  let meta;
  try { meta = JSON.parse(await file.text()); } catch (e) { $("msg").textContent = file.name + " is not a meta (not JSON)"; return; }
  const body = { meta: meta }; const o = only(); if (o.length) body.only = o;
  await act("/api/downloads", body);
}
$("metafile").addEventListener("change", e => { if (e.target.files.length) sendMeta(e.target.files[0]); e.target.value = ""; });
const drop = $("drop");
drop.addEventListener("dragover", e => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", e => { e.preventDefault(); drop.classList.remove("over"); if (e.dataTransfer.files.length) sendMeta(e.dataTransfer.files[0]); });
$("dl").addEventListener("submit", e => {
  e.preventDefault();
  const body = { info_hash: $("addhash").value.trim() }; const o = only(); if (o.length) body.only = o;
  act("/api/downloads", body);
});
$("add").addEventListener("submit", e => { e.preventDefault(); act("/api/files", { path: $("addpath").value }); });
$("addmeta").onclick = () => act("/api/files", { meta: $("addpath").value });
addEventListener("resize", drawChart);
connect();
