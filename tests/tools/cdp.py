"""A small Chrome DevTools Protocol driver for the page tests: starts Debian's
headless chromium on a free port (read from DevToolsActivePort), opens pages,
evaluates JavaScript, waits for conditions with a deadline, takes screenshots.
Needs Debian's python3-websocket (websocket-client). Used by
tests/e2e/browser_pages.py; the caller kills the browser (close(), or its trap)."""
import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import websocket  # Debian: python3-websocket


class Timeout(AssertionError):
    pass


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.call("Page.enable")
        self.call("Runtime.enable")

    def call(self, method, **params):
        msg_id = next(self.ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"JavaScript failed: {expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def goto(self, url):
        self.call("Page.navigate", url=url)
        self.wait("document.readyState === 'complete' && location.href.startsWith(" + json.dumps(url.split('#')[0]) + ")",
                  what=f"{url} to load")

    def wait(self, expression, what, seconds=30):
        """Polls expression until it is truthy; fails after `seconds` with its last value."""
        deadline = time.monotonic() + seconds
        last = None
        while time.monotonic() < deadline:
            try:
                last = self.eval(expression)
            except RuntimeError as e:
                last = str(e)
            if last:
                return last
            time.sleep(0.2)
        raise Timeout(f"timed out after {seconds} s waiting for {what} ({expression!r} was {last!r})")

    def set_files(self, selector, paths):
        """Chooses files in an <input type=file> as a person would (its change event fires)."""
        root = self.call("DOM.getDocument")["root"]["nodeId"]
        node = self.call("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        if not node:
            raise RuntimeError(f"no element matches {selector!r}")
        self.call("DOM.setFileInputFiles", nodeId=node, files=list(paths))

    def viewport(self, width, height, mobile):
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=mobile)

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))


class Browser:
    def __init__(self, binary="chromium"):
        self.profile = tempfile.mkdtemp(prefix="p2p-chromium.")
        self.log = open(os.path.join(self.profile, "chromium.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             "--disable-extensions", "--disable-background-networking", "--remote-debugging-port=0",
             "--remote-allow-origins=*", f"--user-data-dir={self.profile}", "--window-size=1280,900", "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)  # its own group: close() ends all of it
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 60
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited ({self.proc.returncode}); log in {self.log.name}")
            if time.monotonic() > deadline:
                raise Timeout("chromium did not write DevToolsActivePort within 60 s")
            time.sleep(0.1)
        self.port = int(open(port_file).read().splitlines()[0])

    def new_page(self):
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(req, timeout=30) as r:
            return Page(json.load(r)["webSocketDebuggerUrl"])

    def close(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # chromium and the helpers it started
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
