"""The learning labs' speed targets (issue 9), in the real static site in Debian's headless chromium:

    python benchmarks/learning_labs.py [--rounds 9] [--dist DIR]

- race redraw: in the Optimizers tab, a new learning rate for Adam typed into its field -> the six optimizers'
  200-step race on the Rosenbrock valley run again in the Pyodide worker and every path redrawn (measured inside
  the page, from the field's change event to the new Adam path in the page's document and the next animation
  frame). Target: median <= 100 ms.
- finite-difference check: in the Backprop tab, "check with finite differences" on one weight of LeNet-5 (the
  studio's architecture, 8 test digits, float64) -> the answer on the page (from the click to the new result).
  Target: median <= 1 s.
The same two computations in CPython on this machine are printed beside them (core.surfaces.race alone;
core.backprop.numerical_grad alone), so the Pyodide/CPython ratio of the page can be read off. Medians with the
spread; the first round of each warms the code paths up and is left out. Not a test: nothing here asserts.
"""
import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
import site_helpers as h  # noqa: E402

TIMEOUT_MS = 180_000
RACE_TARGET_MS = 100.0
CHECK_TARGET_MS = 1000.0

# A value typed into a Bokeh input (its change event, as a person's Enter gives), then wait for a named source's
# data to be replaced, then one animation frame.
JS_TYPE_AND_WAIT = """async ([el, value, source]) => {
    const src = Bokeh.documents[0].get_model_by_name(source);
    const before = src.data;
    const t0 = performance.now();
    el.value = value;
    el.dispatchEvent(new Event("change", {bubbles: true}));
    await new Promise((resolve, reject) => {
        const limit = t0 + 20000;
        const check = () => src.data !== before ? requestAnimationFrame(() => resolve())
            : performance.now() > limit ? reject(new Error("no redraw in 20 s")) : requestAnimationFrame(check);
        check();
    });
    return performance.now() - t0;
}"""
# Click a button and wait for the HTML pane carrying `css` to change its text, then one animation frame.
JS_CLICK_AND_WAIT = """async ([button, css]) => {
    const pane = [...Bokeh.documents[0].all_models].find(m => (m.css_classes || []).includes(css));
    const before = pane.text;
    const t0 = performance.now();
    button.click();
    await new Promise((resolve, reject) => {
        const limit = t0 + 60000;
        const check = () => pane.text !== before ? requestAnimationFrame(() => resolve())
            : performance.now() > limit ? reject(new Error("no answer in 60 s")) : requestAnimationFrame(check);
        check();
    });
    return performance.now() - t0;
}"""


def open_tab(page, key, css):
    from playground import i18n
    page.locator(".lab-tabs .bk-tab", has_text=i18n.text("en", f"tab_{key}")).click()
    page.locator(css).first.wait_for(timeout=TIMEOUT_MS)


def race_redraws(page, rounds):
    open_tab(page, "optimizers", ".opt-adam-learning-rate input")
    field = page.locator(".opt-adam-learning-rate input").element_handle()
    rates = ("0.4", "0.5")
    return [page.evaluate(JS_TYPE_AND_WAIT, [field, rates[i % 2], "opt-path-adam"]) for i in range(rounds)]


def check_times(page, rounds):
    from playground import i18n
    open_tab(page, "backprop", ".bp-check button")
    page.locator(".bp-check-model button", has_text=i18n.text("en", "bp_model_studio")).click()
    page.locator(".bp-check-index input").wait_for(timeout=TIMEOUT_MS)
    button = page.locator(".bp-check button").element_handle()
    times = []
    for i in range(rounds):
        box = page.locator(".bp-check-index input")
        box.fill(f"2, {i % 5}, 0, 3")           # another weight each round, so the answer's text changes
        box.press("Enter")
        page.wait_for_timeout(300)              # the new index reaches the worker before the click
        times.append(page.evaluate(JS_CLICK_AND_WAIT, [button, "bp-check-result"]))
    text = page.locator(".bp-check-result").first.evaluate("el => (el.shadowRoot || el).textContent")
    if "relative error" not in text:
        raise RuntimeError(f"the check did not answer: {text[-300:]!r}")
    return times, text[text.index("Numerical"):]          # after the pane's own stylesheets


def cpython_times(rounds):
    """The two computations in CPython: core.surfaces.race (6 x 200) and numerical_grad on LeNet-5 (8 digits)."""
    from core import backprop, datasets, models, surfaces
    from playground import training
    opts = surfaces.default_optimizers("rosenbrock")
    race = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        surfaces.race("rosenbrock", opts, steps=200)
        race.append((time.perf_counter() - t0) * 1e3)
    data = training.load_data()
    model = models.lenet5()
    params = model.init(seed=0)
    x, y = datasets.pad_to_32(data["x_test"][:8]), data["y_test"][:8]
    check = []
    for i in range(rounds):
        t0 = time.perf_counter()
        backprop.numerical_grad(model, params, x, y, "C1", "kernel", (2, i % 5, 0, 3))
        check.append((time.perf_counter() - t0) * 1e3)
    return race[1:], check[1:]


def spread(values):
    return f"median {statistics.median(values):7.1f} ms (min {min(values):.1f}, max {max(values):.1f}, n={len(values)})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--dist", type=Path, default=None, help="a built site (default: build dist/ as the tests do)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright
    dist = args.dist or h.ensure_built()
    with tempfile.TemporaryDirectory(prefix="cnn-learning-bench-") as tmp:
        copy = Path(tmp) / "dist"
        shutil.copytree(dist, copy)                       # a rebuild meanwhile cannot pull the files away
        with h.serve(copy) as url, sync_playwright() as p, h.fresh_browser(p) as context:
            page = context.new_page()
            errors = []
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(url)
            page.wait_for_selector(h.READY, state="attached", timeout=TIMEOUT_MS)
            race = race_redraws(page, args.rounds + 1)[1:]
            checks, answer = check_times(page, args.rounds + 1)
            checks = checks[1:]
            if errors:
                raise RuntimeError(f"console errors: {errors}")
    cp_race, cp_check = cpython_times(args.rounds + 1)
    race_med, check_med = statistics.median(race), statistics.median(checks)
    print(f"optimizer race, 6 x 200 steps, redrawn (chromium): {spread(race)}   "
          f"target <= {RACE_TARGET_MS:.0f} ms: {'met' if race_med <= RACE_TARGET_MS else 'NOT met'} "
          f"({race_med / RACE_TARGET_MS:.2f} of it)")
    print(f"  the race alone in CPython                      : {spread(cp_race)}   "
          f"page/CPython {race_med / statistics.median(cp_race):.1f}x")
    print(f"finite-difference check, LeNet-5 (chromium)       : {spread(checks)}   "
          f"target <= {CHECK_TARGET_MS:.0f} ms: {'met' if check_med <= CHECK_TARGET_MS else 'NOT met'} "
          f"({check_med / CHECK_TARGET_MS:.2f} of it)")
    print(f"  numerical_grad alone in CPython                : {spread(cp_check)}   "
          f"page/CPython {check_med / statistics.median(cp_check):.1f}x")
    print(f"  last answer on the page: {answer.strip()}")


if __name__ == "__main__":
    main()
