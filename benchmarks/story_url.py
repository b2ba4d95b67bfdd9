"""The story and settings in the URL in Debian's headless chromium, against issue 13's targets.

    python benchmarks/story_url.py [--runs 3] [--dist DIR]

Each run opens the site in a fresh profile (cold caches) at a URL that holds settings: the convolution lab,
Sobel x, stride 2, no padding (urlstate.encode, as "copy link" writes it).
- story text: navigation start -> the first view's story paragraph painted (Element Timing on the paragraph the
  build marks elementtiming="first-view"); static HTML, before Python has started. Target <= 1 s.
- ready: navigation start -> <html data-ready="true"> (for scale).
- restored at start: ready -> the page shows the URL's state: the conv tab open, its filter Sobel x, the feature
  map of stride 2's shape in the page's document. Watched every animation frame from inside the page (an init
  script), so Playwright's latency is not counted. Target <= 1 s of ready.
- a URL set while running: a second URL (the pooling lab, average pooling 3x3, stride 3) set as a link or the
  back button sets it -> its state shown (the pooling lab is built on the way). Target <= 1 s.
- settings only: a third URL for the same, now built lab (max pooling 2x2, stride 2) -> shown: what the URL
  machinery itself costs (parse, restore, redraw), without building a room.
The two timed from ready include building a lab in the worker, what opening its tab by a click costs as well.

When the URL names a lab, the site's worker loads the packages only labs use (site.json's after_ready, less
Pillow) before starting the app, so Python builds that lab before the first draw (static/worker.js,
playground.app.lab_packages_loaded); the benchmark's former --preload-labs variant is now the site.
Prints medians with min..max. Not a test: figures depend on the machine and what else it runs.
"""
import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import site_helpers as h  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from site_load import JS_FIRST_VIEW, spread, verdict  # noqa: E402  (the same measures as the load benchmark)

TIMEOUT_MS = 180_000

# The state a URL asked for, as the page's document shows it (Bokeh's views and named sources).
JS_SHOWS = """(want) => {
    if (document.documentElement.dataset.ready !== "true" || !window.Bokeh || !Bokeh.documents.length) return false;
    const views = [...Bokeh.index.all_views()];
    const has = (v, css) => (v.model.css_classes || []).includes(css);
    const tabs = views.find((v) => has(v, "lab-tabs"));
    if (!tabs || tabs.model.active !== want.tab) return false;
    const control = views.find((v) => has(v, want.control));
    if (!control) return false;
    const m = control.model;     // a Select shows its value, a button group the label of its active button
    if ((m.labels && typeof m.active === "number" ? m.labels[m.active] : m.value) !== want.value) return false;
    let source = null;
    try { source = Bokeh.documents[0].get_model_by_name(want.source); } catch (e) { return false; }
    return !!source && Array.from(source.data.image[0].shape).join() === want.shape.join();
}"""

# From the first script on the page: the first animation frame at which the start URL's state is shown.
INIT = """(() => {
    const want = %s;
    const shows = %s;
    const tick = () => {
        let ok = false;
        try { ok = shows(want); } catch (e) { ok = false; }
        if (ok) window.storyUrlShown = performance.now();
        else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
})();"""

# Set another hash while the page runs and time it to the frame its state is shown.
JS_FOLLOW = """async ([hash, want]) => {
    const shows = %s;
    const t0 = performance.now();
    location.hash = hash;
    await new Promise((resolve, reject) => {
        const check = () => shows(want) ? resolve() : performance.now() - t0 > 20000
            ? reject(new Error("not shown in 20 s")) : requestAnimationFrame(check);
        check();
    });
    return performance.now() - t0;
}""" % JS_SHOWS


def wants():
    """The two URLs and what each shows, computed on the host with the site's own data and core's arithmetic."""
    import json
    sys.path.insert(0, str(h.ROOT))
    from core import arithmetic
    from playground import app, conv_lab, i18n, urlstate
    image = conv_lab.initial_state()["image"]
    conv = {"filter": "sobel_x", "stride": 2, "padding": "valid"}
    pool = {"kind": "avg", "size": 3, "stride": 3}
    first = (urlstate.encode("conv", "en", conv),
             {"tab": app.TABS.index("conv"), "control": "conv-filter-select",
              "value": "sobel_x", "source": "conv-output-plot-source",
              "shape": list(arithmetic.output_hw(image.shape, (3, 3), (2, 2), "valid"))})
    second = (urlstate.encode("pool", "en", pool),
              {"tab": app.TABS.index("pool"), "control": "pool-kind", "value": i18n.text("en", "pool_avg"),
               "source": "pool-output-plot-source",
               "shape": list(arithmetic.output_hw(image.shape, (3, 3), (3, 3), "valid"))})
    third = (urlstate.encode("pool", "en", {"kind": "max", "size": 2, "stride": 2}),
             dict(second[1], value=i18n.text("en", "pool_max"),
                  shape=list(arithmetic.output_hw(image.shape, (2, 2), (2, 2), "valid"))))
    return first, second, third, json


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dist", type=Path, help="an already built site to measure (default: dist/, rebuilt if stale)")
    args = ap.parse_args()
    snapshot = tempfile.TemporaryDirectory(prefix="cnn-story-dist-")
    dist = Path(snapshot.name) / "dist"
    shutil.copytree(args.dist or h.ensure_built(), dist)
    (start_hash, start_want), (next_hash, next_want), (same_hash, same_want), json = wants()

    text, ready, at_start, after, same = [], [], [], [], []
    with h.serve(dist) as url, sync_playwright() as p:
        for run in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="cnn-story-bench-") as profile, \
                    h.fresh_browser(p, profile) as context:
                context.add_init_script(INIT % (json.dumps(start_want), JS_SHOWS))
                page = context.new_page()
                errors = []
                page.on("console", lambda m: m.type == "error" and errors.append(m.text))
                page.goto(url + start_hash, wait_until="commit")
                painted = page.evaluate(JS_FIRST_VIEW)
                page.wait_for_selector(h.READY, state="attached", timeout=TIMEOUT_MS)
                page.wait_for_function("() => window.storyUrlShown", timeout=TIMEOUT_MS)
                ready_ms = page.evaluate("window.cnnPlaygroundTimings.ready_ms")
                shown_ms = page.evaluate("window.storyUrlShown")
                follow_ms = page.evaluate(JS_FOLLOW, [next_hash, next_want])
                same_ms = page.evaluate(JS_FOLLOW, [same_hash, same_want])
                if errors:
                    raise RuntimeError(f"console errors: {errors}")
            text.append(painted / 1000 if painted else float("nan"))
            ready.append(ready_ms / 1000)
            at_start.append(max(0.0, shown_ms - ready_ms) / 1000)
            after.append(follow_ms / 1000)
            same.append(same_ms / 1000)
            print(f"run {run + 1}: story text {text[-1]:.2f} s, ready {ready[-1]:.2f} s, restored {at_start[-1]:.3f} s "
                  f"after ready, a URL set later shown in {after[-1]:.3f} s, settings only {same[-1]:.3f} s",
                  flush=True)
    print()
    print(f"start URL                   : {start_hash}")
    print(f"story text painted          : {spread(text, 's')}   target <= 1 s {verdict(max(text), 1.0)}")
    print(f"ready                       : {spread(ready, 's')}")
    print(f"restored state, after ready : {spread(at_start, 's')}   target <= 1 s {verdict(max(at_start), 1.0)}")
    print(f"a URL set while running     : {spread(after, 's')}   target <= 1 s {verdict(max(after), 1.0)} "
          f"({next_hash})")
    print(f"settings only (lab built)   : {spread(same, 's')}   target <= 1 s {verdict(max(same), 1.0)} ({same_hash})")


if __name__ == "__main__":
    main()
