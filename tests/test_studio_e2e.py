"""The LeNet studio end to end in Debian's headless chromium, inside the static site's Pyodide worker: build dist/
(cached), serve it, wait for the readiness contract, open the LeNet studio tab, then set a few hundred training
images, press Start, see the curves grow while it trains and the test accuracy rise above chance, draw a stroke on
the canvas and get a prediction. Fails on any request off 127.0.0.1 or console error.

Skipped only without /usr/bin/chromium and $CI.
"""
import os
from urllib.parse import urlsplit

import pytest

from playground import i18n
from site_helpers import READY, ensure_built, fresh_browser, logged_page, serve, skip_without_chromium

skip_without_chromium(module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402  (pinned in requirements-dev.txt)

LOAD_TIMEOUT_MS = 180_000
TRAIN_TIMEOUT_MS = 180_000
STEP_TIMEOUT_MS = 30_000
TRAIN_IMAGES = 300
EPOCHS = 2

JS_DATA = """name => {
    const d = Bokeh.documents[0].get_model_by_name(name).data;
    return {x: Array.from(d.x), y: Array.from(d.y)};
}"""
JS_PROBS = "() => Array.from(Bokeh.documents[0].get_model_by_name('studio-probs-source').data.p)"
JS_CANVAS_BOX = """() => {
    const view = [...Bokeh.index.all_views()].find(v => v.model.name === 'studio-canvas' && v.frame);
    view.el.scrollIntoView({block: "center"});              // below the tabs and curves: bring it into the viewport
    const box = view.el.getBoundingClientRect();
    const xs = view.frame.x_scale, ys = view.frame.y_scale;
    return {left: box.left + xs.compute(0), right: box.left + xs.compute(28),
            top: box.top + ys.compute(0), bottom: box.top + ys.compute(28)};
}"""


@pytest.fixture(scope="module")
def site():
    with serve(ensure_built()) as url:
        yield url


@pytest.fixture(scope="module")
def browser_page(site):
    with sync_playwright() as playwright, fresh_browser(playwright) as context:
        page, log = logged_page(context)
        page.goto(site)
        page.wait_for_selector(READY, state="attached", timeout=LOAD_TIMEOUT_MS)
        page.locator(".lab-tabs .bk-tab", has_text=i18n.text("en", "tab_studio")).click()   # built on first open
        yield page, log, site


def set_number(page, css, value):
    box = page.locator(f".{css} input").first
    box.fill(str(value))
    box.press("Enter")


def test_studio_loads_from_its_own_origin_only(browser_page):
    page, log, site = browser_page
    origin = urlsplit(site).netloc
    outside = [u for u in log["requests"] if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != origin]
    assert outside == [], f"requests left {origin}: {outside}"
    assert any(urlsplit(u).path.endswith("/mnist_subset.npz") for u in log["requests"])
    page.locator(".studio-layer-table", has_text="61,706").wait_for(timeout=STEP_TIMEOUT_MS)


def test_training_updates_the_curves_and_beats_chance(browser_page):
    page, log, _ = browser_page
    set_number(page, "studio-train-size", TRAIN_IMAGES)
    set_number(page, "studio-epochs", EPOCHS)
    page.locator(".studio-status", has_text=f"epoch 0 of {EPOCHS}").wait_for(timeout=STEP_TIMEOUT_MS)
    page.locator(".studio-start button").click()
    # the training curve grows while the run goes on (more than one update reaches the page) ...
    page.wait_for_function("n => Bokeh.documents[0].get_model_by_name('studio-curve-loss-train').data.x.length >= n",
                           arg=2, timeout=TRAIN_TIMEOUT_MS)
    # ... and the run ends by itself with a test-accuracy point per epoch
    page.locator(".studio-status", has_text="Done").wait_for(timeout=TRAIN_TIMEOUT_MS)
    val = page.evaluate(JS_DATA, "studio-curve-accuracy-val")
    assert val["x"][-1] == TRAIN_IMAGES * EPOCHS
    assert val["y"][-1] > 0.3, f"test accuracy {val['y']} should be well above chance (0.1)"
    loss = page.evaluate(JS_DATA, "studio-curve-loss-train")
    assert loss["y"][-1] < loss["y"][0]
    page.locator(".studio-confusion", has_text="Confusion matrix").wait_for(timeout=STEP_TIMEOUT_MS)
    assert log["errors"] == []


def status_text(page):
    return page.locator(".studio-status").evaluate("el => (el.shadowRoot || el).textContent").split("}")[-1]


def test_pause_answers_mid_run_and_resume_continues(browser_page):
    """Training runs in short ticks, so Pause is handled while a run is going and nothing trains until Resume."""
    page, log, _ = browser_page
    page.locator(".studio-reset button").click()             # fresh weights, nothing seen yet
    set_number(page, "studio-train-size", 2000)
    set_number(page, "studio-epochs", 3)
    page.locator(".studio-status", has_text="Ready · epoch 0 of 3 · 0 images").wait_for(timeout=STEP_TIMEOUT_MS)
    page.locator(".studio-start button").click()
    page.locator(".studio-status", has_text="Training").wait_for(timeout=STEP_TIMEOUT_MS)
    page.locator(".studio-pause button").click()
    page.locator(".studio-status", has_text="Paused").wait_for(timeout=STEP_TIMEOUT_MS)
    paused = status_text(page)
    assert "epoch 1 of 3" in paused, paused                  # paused inside the first of three epochs
    page.wait_for_timeout(1500)
    assert status_text(page) == paused                       # nothing trained while paused
    page.locator(".studio-resume button").click()
    page.locator(".studio-status", has_text="Done").wait_for(timeout=TRAIN_TIMEOUT_MS)
    assert "6,000 images seen" in status_text(page)
    assert log["errors"] == []


def test_drawing_a_stroke_gives_a_prediction(browser_page):
    page, log, _ = browser_page
    box = page.evaluate(JS_CANVAS_BOX)
    x = (box["left"] + box["right"]) / 2
    top, bottom = box["top"] + 0.15 * (box["bottom"] - box["top"]), box["top"] + 0.85 * (box["bottom"] - box["top"])
    page.mouse.move(x, top)
    page.mouse.down()
    for k in range(1, 16):
        page.mouse.move(x, top + (bottom - top) * k / 15)
    page.mouse.up()
    page.locator(".studio-prediction", has_text="Prediction:").wait_for(timeout=STEP_TIMEOUT_MS)
    probs = page.evaluate(JS_PROBS)
    assert len(probs) == 10 and abs(sum(probs) - 1) < 1e-3
    assert log["errors"] == []


def test_save_then_load_weights_and_a_corrupt_file_is_refused(browser_page, tmp_path):
    """The download is the core's .npz (it loads on the host, with the trained accuracy); uploading it back works;
    uploading a broken file says why and keeps the model."""
    page, log, _ = browser_page
    with page.expect_download(timeout=STEP_TIMEOUT_MS) as download:
        page.locator(".studio-save button").click()
    saved = tmp_path / "studio_weights.npz"
    download.value.save_as(saved)
    from core import models
    model, params = models.load(saved)                        # refuses anything that is not our format
    assert model.count_params() == 61_706
    broken = tmp_path / "broken.npz"
    broken.write_bytes(saved.read_bytes()[:1000])
    page.locator(".studio-load input[type=file]").set_input_files(str(broken))
    page.locator(".studio-message", has_text="Could not load that weights file").wait_for(timeout=STEP_TIMEOUT_MS)
    page.locator(".studio-message", has_text="broken.npz").wait_for(timeout=STEP_TIMEOUT_MS)
    page.locator(".studio-load input[type=file]").set_input_files(str(saved))
    page.locator(".studio-message", has_text="Loaded studio_weights.npz: 61,706 weights").wait_for(
        timeout=STEP_TIMEOUT_MS)
    assert log["errors"] == []


def test_the_exported_script_reproduces_the_browsers_test_accuracy(browser_page, tmp_path):
    """Export (issue 13): the zip the studio downloads holds its weights and a script that rebuilds the model with
    the core API; run by CPython here, it prints the test accuracy the browser computed for the same weights."""
    import io
    import re
    import subprocess
    import sys
    import zipfile
    page, log, _ = browser_page
    with page.expect_download(timeout=STEP_TIMEOUT_MS) as download:
        page.locator(".studio-export button").click()
    blob = tmp_path / "studio_model.zip"
    download.value.save_as(blob)
    with zipfile.ZipFile(io.BytesIO(blob.read_bytes())) as z:
        z.extractall(tmp_path)
    script = (tmp_path / "studio_model.py").read_text()
    browser = float(re.search(r"STUDIO_ACCURACY = ([0-9.]+)", script).group(1))
    assert browser > 0.3                                      # the weights trained above, not fresh ones
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run([sys.executable, str(tmp_path / "studio_model.py")], cwd=root, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    host = float(re.search(r"test accuracy ([0-9.]+) on", run.stdout).group(1))
    assert host == pytest.approx(browser, abs=5e-5)
    assert log["errors"] == []


def test_nothing_left_the_origin_during_the_whole_session(browser_page):
    page, log, site = browser_page
    origin = urlsplit(site).netloc
    outside = [u for u in log["requests"] if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != origin]
    assert outside == [], f"requests left {origin}: {outside}"
