"""The learning labs end to end in Debian's headless chromium, inside the static site's Pyodide worker: one path
through the Backprop, Losses and Optimizers tabs, each action taken once, each checked against a number the core
computes on the host: the explorer's sum for a kernel weight and its finite-difference check, the loss curves and a
short loss race to its recall table, the optimizers' paths and a learning rate of 1e9 stopping one of them.
Fails on any request off 127.0.0.1 or console error.

Skipped only without /usr/bin/chromium and $CI.
"""
import re
from urllib.parse import urlsplit

import numpy as np
import pytest

from playground import i18n
from site_helpers import READY, ensure_built, fresh_browser, logged_page, serve, skip_without_chromium

skip_without_chromium(module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402  (pinned in requirements-dev.txt)

LOAD_TIMEOUT_MS = 180_000
STEP_TIMEOUT_MS = 30_000
RACE_TIMEOUT_MS = 120_000

JS_COLUMNS = """([name, keys]) => {
    const d = Bokeh.documents[0].get_model_by_name(name).data;
    return Object.fromEntries(keys.map(k => [k, Array.from(d[k])]));
}"""
JS_HAS_MODEL = "name => !!Bokeh.documents[0].get_model_by_name(name)"


@pytest.fixture(scope="module")
def browser_page():
    with serve(ensure_built()) as url, sync_playwright() as playwright, fresh_browser(playwright) as context:
        page, log = logged_page(context)
        page.goto(url)
        page.wait_for_selector(READY, state="attached", timeout=LOAD_TIMEOUT_MS)
        yield page, log, url


def open_tab(page, key, model_name):
    page.locator(".lab-tabs .bk-tab", has_text=i18n.text("en", f"tab_{key}")).click()
    page.wait_for_function(JS_HAS_MODEL, arg=model_name, timeout=LOAD_TIMEOUT_MS)


def set_number(page, css, value):
    box = page.locator(f".{css} input").first
    box.fill(str(value))
    box.press("Enter")


def text_of(page, css):
    return page.locator(f".{css}").first.evaluate("el => (el.shadowRoot || el).textContent")


@pytest.fixture(scope="module")
def data():
    from playground import training
    return training.load_data()


def test_backprop_tab_shows_cores_sum_and_finite_difference_check(browser_page, data):
    from core import backprop
    from playground import backprop_lab
    page, log, _ = browser_page
    open_tab(page, "backprop", "bp-terms-block")
    state = backprop_lab.initial_state()
    res = backprop_lab.compute(state, backprop_lab.explorer_digits(data))
    page.locator(".bp-terms", has_text=backprop_lab.fmt(res["terms"]["total"])).wait_for(timeout=STEP_TIMEOUT_MS)
    page.locator(".bp-check button").click()
    page.locator(".bp-check-result", has_text="relative error").wait_for(timeout=STEP_TIMEOUT_MS)
    shown = text_of(page, "bp-check-result")
    want = backprop.numerical_grad(res["model"], state["params"], res["x"], res["y"], "conv", "kernel",
                                   state["selected"])
    numerical, bp = (float(v) for v in re.findall(r"(?:Numerical|backprop) (-?[\d.e+-]+)", shown))
    assert numerical == pytest.approx(want["numerical"], rel=1e-6)
    assert bp == pytest.approx(want["backprop"], rel=1e-6)
    assert log["errors"] == []


def test_losses_tab_draws_cores_curves_and_races_to_a_recall_table(browser_page):
    from core import losses
    from playground import loss_lab
    page, log, _ = browser_page
    open_tab(page, "losses", "loss-curves-source")
    got = page.evaluate(JS_COLUMNS, ["loss-curves-source", ["mse_dlogit_true", "categorical_crossentropy_loss"]])
    np.testing.assert_allclose(got["mse_dlogit_true"], losses.curve("mse", loss_lab.P_TRUE)["dlogit_true"],
                               rtol=1e-9)
    np.testing.assert_allclose(got["categorical_crossentropy_loss"],
                               losses.curve("categorical_crossentropy", loss_lab.P_TRUE)["loss"], rtol=1e-9)
    set_number(page, "loss-images", 64)
    set_number(page, "loss-train-size", 100)
    page.locator(".loss-start button").click()
    page.locator(".loss-status", has_text="Done").wait_for(timeout=RACE_TIMEOUT_MS)
    page.wait_for_function(
        """() => { const d = Bokeh.documents[0].get_model_by_name('loss-recall-source').data;
                   return Object.keys(d).filter(k => k !== 'digit').every(k => Array.from(d[k]).every(isFinite)); }""",
        timeout=RACE_TIMEOUT_MS)
    assert "64 of 64 images per run" in text_of(page, "loss-status")
    assert text_of(page, "loss-recall").count("%") >= 6 * 12          # ten digits, rare mean, accuracy per run
    assert log["errors"] == []


def test_optimizers_tab_paths_are_cores_and_a_huge_learning_rate_stops_one(browser_page):
    from core import surfaces
    page, log, _ = browser_page
    open_tab(page, "optimizers", "opt-path-adam")
    expected = surfaces.race("rosenbrock", surfaces.default_optimizers("rosenbrock"), steps=200)
    got = page.evaluate(JS_COLUMNS, ["opt-path-adam", ["x", "y"]])
    np.testing.assert_allclose(np.stack([got["x"], got["y"]], 1), expected["Adam"]["path"], rtol=1e-9, atol=1e-12)
    set_number(page, "opt-adam-learning-rate", "1000000000")
    page.locator(".opt-stops", has_text="Adam: diverged at step").wait_for(timeout=STEP_TIMEOUT_MS)
    got = page.evaluate(JS_COLUMNS, ["opt-path-sgd", ["x"]])
    assert len(got["x"]) == 201                                        # the others race on
    page.locator(".opt-play button").click()          # the animation starts over and draws the paths to the end
    length = "n => Bokeh.documents[0].get_model_by_name('opt-path-sgd').data.x.length "
    page.wait_for_function(length + "< n", arg=201, timeout=STEP_TIMEOUT_MS)
    page.wait_for_function(length + "=== n", arg=201, timeout=STEP_TIMEOUT_MS)
    assert log["errors"] == []


def test_no_request_left_the_origin(browser_page):
    page, log, url = browser_page
    origin = urlsplit(url).netloc
    outside = [u for u in log["requests"] if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != origin]
    assert outside == [], f"requests left {origin}: {outside}"
