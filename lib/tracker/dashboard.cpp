// Dashboard page: catalog with search, a detail view per file (its peers, its
// meta, the download command). Names are inserted with textContent, never
// innerHTML, so a published file name cannot inject markup.
#include "tracker/dashboard.hpp"

namespace p2p::tracker {

namespace {

constexpr std::string_view kPage = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>p2p-tracker</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 * { box-sizing: border-box; }
 body { font: 14px/1.4 system-ui, sans-serif; margin: 0 auto; padding: 1em; color: #222; max-width: 1200px; }
 h1 { font-size: 1.4em; margin: 0 0 .5em; }
 h2 { font-size: 1.15em; margin: 0 0 .4em; overflow-wrap: anywhere; }
 .cards { display: flex; gap: .6em; flex-wrap: wrap; margin-bottom: 1em; }
 .card { border: 1px solid #ccc; border-radius: 6px; padding: .4em .8em; min-width: 6.5em; flex: 1 1 6.5em; }
 .card b { display: block; font-size: 1.4em; }
 .scroll { overflow-x: auto; }
 table { border-collapse: collapse; width: 100%; }
 th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #eee; white-space: nowrap; }
 th { background: #f5f5f5; }
 td.num { text-align: right; font-variant-numeric: tabular-nums; }
 #rows tr { cursor: pointer; } #rows tr:hover, #rows tr.sel { background: #eef5ff; }
 code { font-size: .85em; overflow-wrap: anywhere; white-space: normal; }
 #status { color: #888; font-size: .9em; }
 input { font: inherit; padding: .3em; width: min(20em, 100%); }
 button, a.button { font: inherit; padding: .2em .6em; border: 1px solid #999; border-radius: 4px; background: #f7f7f7; color: #222; text-decoration: none; cursor: pointer; }
 #detail { border: 1px solid #cde; border-radius: 6px; padding: .8em 1em; margin: 1em 0; background: #fafcff; }
 #detail dl { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; margin: .5em 0; }
 #detail dt { color: #666; } #detail dd { margin: 0; overflow-wrap: anywhere; }
 pre#cmd { background: #f3f3f3; padding: .5em; white-space: pre-wrap; overflow-wrap: anywhere; margin: .3em 0; }
 .actions { display: flex; gap: .5em; flex-wrap: wrap; align-items: center; margin: .4em 0; }
</style>
</head>
<body>
<h1>p2p-tracker</h1>
<div class="cards">
 <div class="card">files<b id="files">-</b></div>
 <div class="card">swarms<b id="swarms">-</b></div>
 <div class="card">peers<b id="peers">-</b></div>
 <div class="card">seeders<b id="seeders">-</b></div>
 <div class="card">leechers<b id="leechers">-</b></div>
 <div class="card">connections<b id="connections">-</b></div>
 <div class="card">requests<b id="requests">-</b></div>
</div>
<p><input id="q" placeholder="filter by name" autocomplete="off"> <span id="status">loading…</span></p>
<section id="detail" hidden>
 <h2 id="dname"></h2>
 <div class="actions">
  <a id="dmeta" class="button" download>download meta</a>
  <button id="dcopy" type="button">copy command</button> <span id="dcopied" class="muted"></span>
 </div>
 <pre id="cmd"></pre>
 <dl>
  <dt>size</dt><dd id="dsize"></dd>
  <dt>pieces</dt><dd id="dpieces"></dd>
  <dt>completed</dt><dd id="dcompleted"></dd>
  <dt>published</dt><dd id="dpublished"></dd>
  <dt>info hash</dt><dd><code id="dhash"></code></dd>
 </dl>
 <div class="scroll">
 <table id="dpeers">
  <thead><tr><th>address</th><th>role</th><th>last announce</th></tr></thead>
  <tbody></tbody>
 </table>
 </div>
</section>
<div class="scroll">
<table>
 <thead><tr><th>name</th><th>size</th><th>seeders</th><th>leechers</th><th>completed</th><th>info hash</th></tr></thead>
 <tbody id="rows"></tbody>
</table>
</div>
<section id="bt" hidden>
<h2>BitTorrent swarms <span id="btmode" class="muted"></span></h2>
<div class="scroll">
<table>
 <thead><tr><th>info hash</th><th>seeders</th><th>leechers</th><th>completed</th></tr></thead>
 <tbody id="btrows"></tbody>
</table>
</div>
</section>
<script>
"use strict";
const $ = id => document.getElementById(id);
let selected = null;
function human(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}
function cell(tr, text, cls) {
  const td = document.createElement("td"); td.textContent = text;
  if (cls) td.className = cls; tr.appendChild(td); return td;
}
function ago(ms) {
  if (!ms) return "-";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 90 ? s + " s ago" : Math.round(s / 60) + " min ago";
}
async function showDetail() {
  if (!selected) { $("detail").hidden = true; return; }
  try {
    const r = await fetch("/lookup?info_hash=" + selected);
    if (!r.ok) { $("detail").hidden = true; selected = null; return; }
    const d = await r.json(), f = d.file;
    $("detail").hidden = false;
    $("dname").textContent = f.name;
    $("dsize").textContent = human(f.size) + " (" + f.size + " bytes)";
    $("dpieces").textContent = Math.ceil(f.size / f.piece_size) + " of " + human(f.piece_size);
    $("dcompleted").textContent = f.completed;
    $("dpublished").textContent = new Date(f.published * 1000).toLocaleString();
    $("dhash").textContent = f.info_hash;
    $("dmeta").href = "/meta/" + f.info_hash;
    $("dmeta").download = f.name + ".p2pmeta";
    $("cmd").textContent = "p2p-download --tracker " + location.host + " --id " + f.info_hash;
    const tb = $("dpeers").tBodies[0]; tb.replaceChildren();
    for (const p of d.peers) {
      const tr = document.createElement("tr"); tr.dataset.role = p.seeder ? "seeder" : "leecher";
      cell(tr, p.ip.includes(":") ? "[" + p.ip + "]:" + p.port : p.ip + ":" + p.port);
      cell(tr, p.seeder ? "seeder" : "leecher"); cell(tr, ago(p.last_announce_ms));
      tb.appendChild(tr);
    }
    if (!d.peers.length) { const tr = document.createElement("tr"); cell(tr, "no peers now"); tb.appendChild(tr); }
  } catch (e) { /* the next refresh retries */ }
}
$("dcopy").onclick = async () => {
  const text = $("cmd").textContent;
  try { await navigator.clipboard.writeText(text); $("dcopied").textContent = "copied"; }
  catch (e) { const r = document.createRange(); r.selectNodeContents($("cmd"));
    getSelection().removeAllRanges(); getSelection().addRange(r); $("dcopied").textContent = "selected: press Ctrl+C"; }
};
async function refresh() {
  try {
    const q = encodeURIComponent($("q").value);
    const [stats, files] = await Promise.all([
      fetch("/stats").then(r => r.json()),
      fetch("/files?q=" + q).then(r => r.json())]);
    for (const k of ["files", "swarms", "peers", "seeders", "leechers", "connections", "requests"])
      $(k).textContent = stats[k];
    const rows = $("rows"); rows.replaceChildren();
    for (const f of files.files) {
      const tr = document.createElement("tr"); tr.dataset.ih = f.info_hash;
      if (f.info_hash === selected) tr.className = "sel";
      cell(tr, f.name); cell(tr, human(f.size), "num"); cell(tr, f.seeders, "num");
      cell(tr, f.leechers, "num"); cell(tr, f.completed, "num");
      const code = document.createElement("code"); code.textContent = f.info_hash.slice(0, 16) + "…";
      cell(tr, "").appendChild(code);
      tr.onclick = () => { selected = f.info_hash; refresh(); };
      rows.appendChild(tr);
    }
    // BitTorrent swarms (p2p-tracker --bittorrent): no meta to download, only their counts.
    const bt = await fetch("/bittorrent").then(r => r.json());
    $("bt").hidden = bt.mode === "off";
    $("btmode").textContent = "(" + bt.mode + (bt.truncated ? ", first " + bt.swarms.length + " shown" : "") + ")";
    const btrows = $("btrows"); btrows.replaceChildren();
    for (const b of bt.swarms) {
      const tr = document.createElement("tr");
      const code = document.createElement("code"); code.textContent = b.info_hash;
      cell(tr, "").appendChild(code);
      cell(tr, b.seeders, "num"); cell(tr, b.leechers, "num"); cell(tr, b.completed, "num");
      btrows.appendChild(tr);
    }
    $("status").textContent = "updated " + new Date().toLocaleTimeString() +
        (files.truncated ? " (first " + files.count + " shown)" : "");
    await showDetail();
  } catch (e) {
    $("status").textContent = "tracker unreachable: " + e;
  }
}
let typing;
$("q").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(refresh, 200); });
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)HTML";

}  // namespace

std::string_view dashboard_html() { return kPage; }

}  // namespace p2p::tracker
