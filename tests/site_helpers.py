"""Shared by the browser end-to-end test and benchmarks/site_load.py: build dist/ (cached), serve it on a free
127.0.0.1 port in a thread, and start Debian's chromium with a fresh profile through Playwright.

No network beyond 127.0.0.1: chromium's resolver maps every other host to nothing, and the tests also log every
request and fail on any that leaves the origin.
"""
import contextlib
import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
READY = "html[data-ready='true']"


def import_sitebuild():
    """The site build's package (sitebuild/ at the repository root) with all its parts imported."""
    sys.path.insert(0, str(ROOT))
    try:
        import sitebuild.assemble
        import sitebuild.fetch
        import sitebuild.first_view
        import sitebuild.font
        import sitebuild.lock
        import sitebuild.paths
        import sitebuild.pins
        import sitebuild.server
        import sitebuild.system
        import sitebuild.wheels
    finally:
        sys.path.remove(str(ROOT))
    return sitebuild


def ensure_built():
    """dist/ as the sources say: rebuilt only when something it is made from changed (the cache makes it quick)."""
    return import_sitebuild().assemble.build(force=False)


def pyodide_core():
    """The unpacked Pyodide npm package the build uses (pyodide.mjs for Node), in the build's cache."""
    return import_sitebuild().fetch.pyodide_core()


@contextlib.contextmanager
def serve(dist, sent=None):
    """Yields the site's base URL, http://127.0.0.1:<free port>/ (`sent`: see sitebuild.server.make_server)."""
    server = import_sitebuild().server.make_server(dist, port=0, sent=sent)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def fresh_browser(playwright, profile=None):
    """A persistent chromium context on `profile` (a new temporary one when None): cold cache, no cookies."""
    with contextlib.ExitStack() as stack:
        if profile is None:
            profile = stack.enter_context(tempfile.TemporaryDirectory(prefix="cnn-site-profile-"))
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000}, locale=os.environ.get("SITE_LOCALE", "en-US"))
        try:
            yield context
        finally:
            context.close()


def logged_page(context):
    """(page, log): a new page of `context`, every request URL of the context in log["requests"] and every
    console error or uncaught exception of the page in log["errors"] (the e2e tests assert both stay clean)."""
    log = {"requests": [], "errors": []}
    context.on("request", lambda request: log["requests"].append(request.url))
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and log["errors"].append(m.text))
    page.on("pageerror", lambda e: log["errors"].append(f"uncaught: {e}"))
    return page, log


def skip_without_chromium(module_level=False):
    """Skip the caller (a test, a fixture, or with module_level=True a whole module) when /usr/bin/chromium is
    missing and $CI is unset: CI installs chromium and must run the browser tests."""
    if not os.path.exists(CHROMIUM) and not in_ci():
        import pytest
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI always runs the browser tests",
                    allow_module_level=module_level)


def in_ci():
    return bool(os.environ.get("CI"))
