"""The Networks tab end to end in Debian's headless chromium, inside the static site's Pyodide worker: build dist/
(cached), serve it, wait for the readiness contract, open the Networks tab, train the MLP and LeNet-5 on a few
hundred digits, and see the accuracies on moved digits that core measured appear in the table. Fails on any request
off 127.0.0.1 or console error.

Skipped only without /usr/bin/chromium and $CI.
"""
from urllib.parse import urlsplit

from playground import i18n
from site_helpers import READY, ensure_built, fresh_browser, logged_page, serve, skip_without_chromium

skip_without_chromium(module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402  (pinned in requirements-dev.txt)

LOAD_TIMEOUT_MS = 180_000
TRAIN_TIMEOUT_MS = 180_000
STEP_TIMEOUT_MS = 30_000
TRAIN_IMAGES = 200

JS_SHIFTED = "name => Array.from(Bokeh.documents[0].get_model_by_name(name).data.y)"


def set_number(page, css, value):
    box = page.locator(f".{css} input").first
    box.fill(str(value))
    box.press("Enter")


def test_the_networks_tab_trains_both_models_and_shows_core_numbers():
    with serve(ensure_built()) as site, sync_playwright() as playwright, fresh_browser(playwright) as context:
        page, log = logged_page(context)
        page.goto(site)
        page.wait_for_selector(READY, state="attached", timeout=LOAD_TIMEOUT_MS)
        page.locator(".lab-tabs .bk-tab", has_text=i18n.text("en", "tab_networks")).click()
        page.locator(".nets-mlp-arithmetic", has_text="196,608").wait_for(timeout=LOAD_TIMEOUT_MS)   # data loaded
        set_number(page, "nets-mlp-train-size", TRAIN_IMAGES)
        set_number(page, "nets-mlp-epochs", 1)
        page.locator(".nets-mlp-start button").click()
        page.locator(".nets-mlp-status", has_text="Done").wait_for(timeout=TRAIN_TIMEOUT_MS)
        table = page.locator(".nets-mlp-table").evaluate("el => (el.shadowRoot || el).textContent")
        for name in ("mlp", "cnn"):
            accuracies = page.evaluate(JS_SHIFTED, f"nets-mlp-shift-{name}")
            assert len(accuracies) == 5 and all(0 <= a <= 1 for a in accuracies)
            assert all(f"{a:.1%}" in table for a in accuracies), (accuracies, table)
        assert "61,706" in table and "62,110" in table
        origin = urlsplit(site).netloc
        outside = [u for u in log["requests"] if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != origin]
        assert outside == [], f"requests left {origin}: {outside}"
        assert log["errors"] == []
