"""The pages in a real browser (headless chromium over CDP): the downloader's and
the seeder's live pages and the tracker's catalog, each loaded, waited on for a
live update, and checked in the DOM; again at a 390 px wide viewport.
Run by browser_pages.sh; arguments are the three page URLs, the tracker's
address and the expected info hashes. With --screenshots DIR it also saves one
PNG of each page (scripts/screenshots.sh)."""
import argparse
import json
import sys

sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "tools"))
from cdp import Browser  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--download", required=True)
ap.add_argument("--seed", required=True)
ap.add_argument("--tracker", required=True)
ap.add_argument("--tracker-address", required=True)
ap.add_argument("--big", required=True, help="info hash of the file being downloaded")
ap.add_argument("--small", required=True, help="info hash of the other published file")
ap.add_argument("--meta-out", required=True, help="where to write the meta the tracker page's button returns")
ap.add_argument("--screenshots")
a = ap.parse_args()


def ok(what):
    print(f"ok: {what}", flush=True)


def no_horizontal_scroll(page, what):
    width = page.eval("document.documentElement.scrollWidth")
    assert width <= 392, f"{what}: the page is {width} px wide at a 390 px viewport"
    ok(f"{what} fits a 390 px wide viewport")


browser = Browser()
try:
    page = browser.new_page()

    # --- the downloader's page: pushed updates, progress advancing, a peer row ---
    page.goto(a.download)
    page.wait("+document.getElementById('live').dataset.updates >= 2", "two pushed status updates")
    ok("download page: live updates pushed")
    first = float(page.wait("(() => { const p = document.querySelector('#files tbody .progress');"
                            " return p && +p.dataset.value > 0 && p.dataset.value; })()", "progress above 0"))
    page.wait(f"+document.querySelector('#files tbody .progress').dataset.value > {first}", "progress to advance")
    ok(f"download page: progress advanced past {first:.3f}")
    page.wait("document.querySelectorAll('#peers tbody tr').length >= 1", "a peer row")
    origin = page.eval("document.querySelector('#peers tbody tr').children[1].textContent")
    assert origin in ("tracker", "command line", "incoming", "gossip"), origin
    ok(f"download page: a peer row appeared (found via {origin})")
    page.wait("document.querySelectorAll('#events li').length >= 1", "an event in the list")
    page.wait("document.querySelector('#files tbody td.limit').dataset.kind === 'download_cap'",
              "the page to say our download cap limits the transfer")
    ok("download page: says our download cap limits the transfer")
    if a.screenshots:
        page.screenshot(f"{a.screenshots}/download-page.png")
    page.viewport(390, 844, True)
    page.goto(a.download)
    page.wait("+document.getElementById('live').dataset.updates >= 1", "an update at 390 px")
    no_horizontal_scroll(page, "download page")
    page.viewport(1280, 900, False)

    # --- the seeder's page ---
    page.goto(a.seed)
    page.wait("+document.getElementById('live').dataset.updates >= 2", "two pushed status updates")
    page.wait(f"!!document.querySelector('#files tbody tr[data-ih=\"{a.big}\"]')", "the seeded file's row")
    page.wait("document.querySelectorAll('#peers tbody tr').length >= 1 || "
              "[...document.querySelectorAll('#files tbody tr')].length >= 2", "a peer row or both files")
    ok("seed page: live, its files listed")
    if a.screenshots:
        page.wait("document.querySelectorAll('#peers tbody tr').length >= 1", "a peer row for the screenshot")
        page.screenshot(f"{a.screenshots}/seed-page.png")
    page.viewport(390, 844, True)
    page.goto(a.seed)
    page.wait("+document.getElementById('live').dataset.updates >= 1", "an update at 390 px")
    no_horizontal_scroll(page, "seed page")
    page.viewport(1280, 900, False)

    # --- the tracker's page: catalog, search, detail view, meta button, command ---
    page.goto(a.tracker)
    page.wait("document.querySelectorAll('#rows tr').length >= 2", "both published files listed")
    ok("tracker page: catalog listed")
    page.eval("(() => { const q = document.getElementById('q'); q.value = 'small';"
              " q.dispatchEvent(new Event('input')); return true; })()")
    page.wait(f"document.querySelectorAll('#rows tr').length === 1 && "
              f"!!document.querySelector('#rows tr[data-ih=\"{a.small}\"]')", "the filter to keep one row")
    ok("tracker page: search filters the list")
    page.eval("(() => { const q = document.getElementById('q'); q.value = '';"
              " q.dispatchEvent(new Event('input')); return true; })()")
    page.wait(f"!!document.querySelector('#rows tr[data-ih=\"{a.big}\"]')", "the big file back after clearing the filter")
    page.eval(f"document.querySelector('#rows tr[data-ih=\"{a.big}\"]').click(), true")
    page.wait("!document.getElementById('detail').hidden", "the detail view")
    cmd = page.wait(f"(() => {{ const t = document.getElementById('cmd').textContent;"
                    f" return t.includes('{a.big}') && t; }})()", "the download command")
    assert cmd == f"p2p-download --tracker {a.tracker_address} --id {a.big}", cmd
    ok("tracker page: detail view with a copyable download command")
    page.wait("document.querySelectorAll('#dpeers tbody tr[data-role=\"seeder\"]').length >= 1", "a seeder row")
    ok("tracker page: the file's seeders are shown")
    meta = page.eval("fetch(document.getElementById('dmeta').href).then(r => r.text())")
    parsed = json.loads(meta)
    assert parsed["info_hash"] == a.big, parsed.get("info_hash")
    assert page.eval("document.getElementById('dmeta').download").endswith(".p2pmeta")
    with open(a.meta_out, "w") as f:
        f.write(meta)
    ok("tracker page: the meta button returns the file's meta")
    if a.screenshots:
        page.screenshot(f"{a.screenshots}/tracker-page.png")
    page.viewport(390, 844, True)
    page.goto(a.tracker)
    page.wait("document.querySelectorAll('#rows tr').length >= 2", "the catalog at 390 px")
    no_horizontal_scroll(page, "tracker page")
finally:
    browser.close()
