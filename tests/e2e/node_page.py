"""The node's page adds downloads (run by node_page.sh): a meta chosen in the file
input, an info hash pasted; waits for the queue to show them in order with their
controls, then for both to finish with their paths shown."""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from cdp import Browser  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--page", required=True)
ap.add_argument("--meta", required=True)
ap.add_argument("--movie", required=True)
ap.add_argument("--notes", required=True)
ap.add_argument("--workdir", required=True)
a = ap.parse_args()


def ok(what):
    print(f"ok: {what}", flush=True)


def row(ih):
    return f"document.querySelector('#files tbody tr[data-ih=\"{ih}\"]')"


browser = Browser()
try:
    page = browser.new_page()
    page.goto(a.page)
    page.wait("+document.getElementById('live').dataset.updates >= 1", "a pushed status")
    page.wait("!document.getElementById('dl').hidden", "the download form (can_download)")
    ok("the page offers downloads")

    page.set_files("#metafile", [a.meta])
    page.wait(f"!!{row(a.movie)}", "the chosen meta's row")
    msg = page.wait("document.getElementById('msg').textContent", "the answer to the upload")
    assert "queued movie.bin" in msg, msg
    ok(f"a meta chosen in the file input was added ({msg})")

    page.eval("document.getElementById('addhash').value = " + json.dumps(a.notes))
    page.eval("document.querySelector('#dl button[type=submit]').click()")
    page.wait(f"!!{row(a.notes)}", "the pasted info hash's row")
    phase = page.wait(f"{row(a.notes)} && {row(a.notes)}.querySelector('td.phase').textContent", "its state")
    assert phase.startswith("queued (place 2)") or phase.startswith("checking") or phase.startswith("running") \
        or phase.startswith("complete"), phase
    ok(f"an info hash pasted was added ({phase})")
    if phase.startswith("queued"):
        page.wait(f"!!{row(a.notes)}.querySelector('button[data-move=up]')", "queue controls on the waiting download")
        ok("the waiting download has its queue controls")

    for ih, name in ((a.movie, "movie.bin"), (a.notes, "notes.bin")):
        page.wait(f"{row(ih)} && {row(ih)}.querySelector('td.phase').textContent === 'complete'", f"{name} to finish",
                  seconds=90)
        where = page.wait(f"{row(ih)}.querySelector('.where') && {row(ih)}.querySelector('.where').textContent",
                          f"where {name} is")
        assert where == "→ " + os.path.join(os.path.abspath(a.workdir), name), where
        ok(f"{name} finished; the page shows it at {where[2:]}")
finally:
    browser.close()
