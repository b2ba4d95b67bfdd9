"""The README's screenshots, taken from the real static site in Debian's headless chromium, so they stay current.

    python scripts/screenshots.py [--out docs/img] [--dist DIR] [--train-seconds 25]

Builds dist/ if stale (or takes --dist), serves it on 127.0.0.1 and opens it in a fresh profile, in English:
- story.png   the story tab as a student first sees it
- conv.png    the convolution lab from a URL (Sobel x, stride 2), an output pixel clicked: its receptive field
              and dot product
- studio.png  the LeNet studio while it trains on the shipped MNIST subset (curves, filters, feature maps)
Each shot waits for what it shows (the page's readiness contract, the lab's plot, the training curves), never a
fixed sleep alone; a console error stops the script.
"""
import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
import site_helpers as h  # noqa: E402
from test_site_e2e import JS_PIXEL_POINT  # noqa: E402  (where a pixel of a Bokeh image plot is on the screen)

TIMEOUT_MS = 180_000
VIEWPORT = {"width": 1400, "height": 900}
ACTIVE_TAB = """() => {
    const v = [...Bokeh.index.all_views()].find(v => (v.model.css_classes || []).includes("lab-tabs"));
    return v ? v.model.active : null;
}"""
CURVE_POINTS = """() => {
    const s = Bokeh.documents[0].get_model_by_name("studio-curve-loss-train");
    return s ? s.data.x.length : 0;
}"""


def go(page, hash_, tab):
    """Set the page's hash (as a link does) and wait until the room `tab` is open."""
    from playground import app
    page.evaluate("(h) => { location.hash = h; }", hash_)
    page.wait_for_function(f"() => ({ACTIVE_TAB})() === {app.TABS.index(tab)}", timeout=TIMEOUT_MS)


def settle(page, seconds=1.0):
    """Let the last patches draw (BokehJS renders on animation frames)."""
    time.sleep(seconds)
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def shoot(out, dist, train_seconds):
    from playwright.sync_api import sync_playwright
    from playground import urlstate
    out.mkdir(parents=True, exist_ok=True)
    with h.serve(dist) as url, sync_playwright() as p, h.fresh_browser(p) as context:
        page = context.new_page()
        page.set_viewport_size(VIEWPORT)
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "#tab=story&lang=en")
        page.wait_for_selector(h.READY, state="attached", timeout=TIMEOUT_MS)
        page.locator("#app .story-mlp").first.wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.screenshot(path=str(out / "story.png"))
        print(f"wrote {out / 'story.png'}")

        go(page, urlstate.encode("conv", "en", {"filter": "sobel_x", "stride": 2}), "conv")
        page.wait_for_function("() => !!Bokeh.documents[0].get_model_by_name('conv-output-plot-source')",
                               timeout=TIMEOUT_MS)
        x, y = page.evaluate(JS_PIXEL_POINT, ["conv-output-plot", 40, 60])
        page.mouse.click(x, y)
        page.locator(".conv-dot-product", has_text="60").wait_for(timeout=TIMEOUT_MS)
        settle(page)
        page.screenshot(path=str(out / "conv.png"))
        print(f"wrote {out / 'conv.png'}")

        go(page, "#tab=studio&lang=en", "studio")
        start = page.locator(".studio-start button")
        start.wait_for(timeout=TIMEOUT_MS)
        deadline = time.time() + 120
        while start.is_disabled() and time.time() < deadline:     # the MNIST subset arrives just after ready
            time.sleep(0.5)
        start.click()
        page.wait_for_function(f"() => ({CURVE_POINTS})() >= 3", timeout=TIMEOUT_MS)
        time.sleep(train_seconds)
        settle(page)
        page.screenshot(path=str(out / "studio.png"))
        print(f"wrote {out / 'studio.png'}")
        if errors:
            raise SystemExit(f"console errors: {errors}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    ap.add_argument("--dist", type=Path, help="an already built site (default: dist/, rebuilt if stale)")
    ap.add_argument("--train-seconds", type=float, default=25.0, help="how long the studio trains before its shot")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cnn-shots-") as tmp:
        dist = Path(tmp) / "dist"
        shutil.copytree(args.dist or h.ensure_built(), dist)   # a rebuild meanwhile cannot pull it away
        shoot(args.out, dist, args.train_seconds)


if __name__ == "__main__":
    main()
