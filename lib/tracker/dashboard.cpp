// Dashboard page. Names are inserted with textContent, never innerHTML, so a
// published file name cannot inject markup.
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
 body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
 h1 { font-size: 1.4em; margin: 0 0 .5em; }
 .cards { display: flex; gap: 1em; flex-wrap: wrap; margin-bottom: 1.5em; }
 .card { border: 1px solid #ccc; border-radius: 6px; padding: .6em 1em; min-width: 7em; }
 .card b { display: block; font-size: 1.5em; }
 table { border-collapse: collapse; width: 100%; }
 th, td { text-align: left; padding: .3em .6em; border-bottom: 1px solid #eee; }
 th { background: #f5f5f5; }
 td.num { text-align: right; font-variant-numeric: tabular-nums; }
 code { font-size: .85em; }
 #status { color: #888; font-size: .9em; }
 input { padding: .3em; width: 20em; }
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
<p><input id="q" placeholder="filter by name"> <span id="status">loading…</span></p>
<table>
 <thead><tr><th>name</th><th>size</th><th>seeders</th><th>leechers</th><th>completed</th><th>info hash</th></tr></thead>
 <tbody id="rows"></tbody>
</table>
<script>
"use strict";
const $ = id => document.getElementById(id);
function human(n) {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + u[i];
}
function cell(tr, text, cls) {
  const td = document.createElement("td"); td.textContent = text;
  if (cls) td.className = cls; tr.appendChild(td); return td;
}
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
      const tr = document.createElement("tr");
      cell(tr, f.name); cell(tr, human(f.size), "num"); cell(tr, f.seeders, "num");
      cell(tr, f.leechers, "num"); cell(tr, f.completed, "num");
      const code = document.createElement("code"); code.textContent = f.info_hash;
      cell(tr, "").appendChild(code);
      rows.appendChild(tr);
    }
    $("status").textContent = "updated " + new Date().toLocaleTimeString() +
        (files.truncated ? " (first " + files.count + " shown)" : "");
  } catch (e) {
    $("status").textContent = "tracker unreachable: " + e;
  }
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)HTML";

}  // namespace

std::string_view dashboard_html() { return kPage; }

}  // namespace p2p::tracker
