"""In-browser training speed: the project's NumPy core under Pyodide beside TF.js (wasm) and ConvNetJS, in Node.

    python benchmarks/browser_training.py [--batch 32] [--steps 20] [--rounds 7]

All three train the same LeNet-5 (61,706 weights, checked) with softmax cross-entropy and plain SGD, one thread
each, in one Node process (benchmarks/node/bench.mjs), interleaved in rounds with the order rotated, so a noisy
neighbour hurts everyone in a round alike. Prints images/s per engine (median and spread over rounds) and the
per-round ratios Pyodide/TF.js-wasm and Pyodide/ConvNetJS (medians), beside the issue's targets (>= 1.2x, >= 7x).

Inputs: Pyodide 0.27.7 and its NumPy from the site build (dist/pyodide, built if missing or stale, and the
Pyodide core in the build's cache, .cache/ or $CNN_SITE_CACHE), the repository's core/ as is, and the pinned npm
packages in benchmarks/node (package-lock.json with sha512 integrity; `npm ci` runs if node_modules is missing).

    python benchmarks/browser_training.py --accuracy [--seconds 60] [--subset PATH]

The second target: the studio page in headless chromium, in the site's Pyodide worker, trains with its defaults
for at most --seconds of training time (the page's own images/s clock), then reports the test accuracy it shows.
--subset swaps the MNIST subset the site ships for another .npz of the same keys (e.g. data/mnist_subset.npz,
core's 10k/2k one) in a temporary copy of dist/.
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "benchmarks" / "node"
TARGETS = {"tfjs": 1.2, "convnetjs": 7.0}
LABELS = {"pyodide": "NumPy core under Pyodide (einsum, FFT)", "tfjs": "TF.js 4.22 wasm (SIMD, 1 thread)",
          "convnetjs": "ConvNetJS 0.3.0"}


def site_helpers():
    sys.path.insert(0, str(ROOT / "tests"))
    import site_helpers
    return site_helpers


def ensure_node_packages():
    if not (NODE_DIR / "node_modules" / "@tensorflow" / "tfjs-backend-wasm").exists():
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)


def run_speed(args):
    ensure_node_packages()
    helpers = site_helpers()
    dist = helpers.ensure_built()
    opts = {"pyodideCore": str(helpers.pyodide_core()), "pyodideIndex": f"{dist / 'pyodide'}/",
            "coreDir": str(ROOT / "core"), "batch": args.batch, "steps": args.steps, "rounds": args.rounds}
    proc = subprocess.run(["node", "bench.mjs", json.dumps(opts)], cwd=NODE_DIR, stdout=subprocess.PIPE, check=True,
                          text=True)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if len(set(result["params"].values())) != 1:
        sys.exit(f"the engines do not train the same model: {result['params']}")
    report_speed(result)
    return result


def report_speed(result):
    rounds = result["rounds"]
    print(f"\nLeNet-5 ({result['params']['pyodide']:,} weights), training, batch {result['batch']}, "
          f"{result['steps']} steps x {len(rounds)} rounds, images/s (median, min-max):")
    for name, label in LABELS.items():
        values = [r[name] for r in rounds]
        print(f"  {label:<38} {statistics.median(values):>7,.0f}   ({min(values):,.0f}-{max(values):,.0f})"
              f"   loss {result['loss'][name][0]:.3f} -> {result['loss'][name][-1]:.3f}")
    for peer, target in TARGETS.items():
        ratios = [r["pyodide"] / r[peer] for r in rounds]
        median = statistics.median(ratios)
        verdict = "meets" if median >= target else "misses"
        print(f"  Pyodide / {LABELS[peer]:<34} {median:5.2f}x  (rounds {min(ratios):.2f}-{max(ratios):.2f}x); "
              f"target >= {target}x: {verdict}")


# ---------------------------------------------------------------- accuracy in the browser

def studio_copy(dist, subset):
    """A temporary copy of dist/, optionally with another MNIST subset (the run opens its LeNet studio tab)."""
    site = Path(tempfile.mkdtemp(prefix="studio-bench-")) / "dist"
    shutil.copytree(dist, site)
    if subset:
        shutil.copy(subset, site / "data" / "mnist_subset.npz")
        (site / "data" / "mnist_subset.npz.gz").unlink(missing_ok=True)
    return site


JS_ACCURACY = """() => {
    const acc = Bokeh.documents[0].get_model_by_name('studio-curve-accuracy-val').data;
    return {x: Array.from(acc.x), y: Array.from(acc.y)};
}"""


def page_state(page):
    """The validation curve and the status line ("Training · epoch 1 of 4 · 1,920 images seen · 762 images/s")."""
    state = page.evaluate(JS_ACCURACY)
    state["status"] = page.locator(".studio-status").evaluate("el => (el.shadowRoot || el).textContent").split("}")[-1]
    fields = [f.strip() for f in state["status"].split("·")]
    number = lambda suffix: float(next((f[:-len(suffix)] for f in fields if f.endswith(suffix)), "0").replace(",", ""))
    state["seen"], state["ips"] = number(" images seen"), number(" images/s")
    return state


def run_accuracy(args):
    from playwright.sync_api import sync_playwright
    helpers = site_helpers()
    site = studio_copy(helpers.ensure_built(), args.subset)
    with helpers.serve(site) as url, sync_playwright() as pw, helpers.fresh_browser(pw) as context:
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector(helpers.READY, state="attached", timeout=180_000)
        page.locator(".lab-tabs .bk-tab", has_text="LeNet studio").click()
        page.locator(".studio-layer-table", has_text="61,706").wait_for(timeout=60_000)
        if args.epochs:
            box = page.locator(".studio-epochs input").first
            box.fill(str(args.epochs))
            box.press("Enter")
            time.sleep(1)
        page.locator(".studio-start button").click()
        start = time.perf_counter()
        while True:
            time.sleep(2)
            state = page_state(page)
            done = "Done" in state["status"] or "Stopped" in state["status"]
            # the page's own clock: images seen / images per second = seconds spent training
            trained_s = state["seen"] / state["ips"] if state["ips"] else 0.0
            if done or trained_s >= args.seconds or time.perf_counter() - start > args.wall_limit:
                break
        if not done:
            page.locator(".studio-stop button").click()
            page.locator(".studio-status", has_text="Stopped").wait_for(timeout=60_000)
        wall = time.perf_counter() - start
        state = page_state(page)
    print(f"\nStudio in chromium ({'shipped subset' if not args.subset else args.subset}): {state['status']}")
    print(f"  training time by the page's clock {trained_s:.1f} s (wall incl. evaluation and drawing {wall:.1f} s)")
    print("  test accuracy by images seen: " + ", ".join(f"{x:,}: {y:.2%}" for x, y in zip(state["x"], state["y"])))
    print(f"  final test accuracy {state['y'][-1]:.2%}; target >= 97% within 60 s: "
          f"{'meets' if state['y'][-1] >= 0.97 and trained_s <= 60 else 'misses'}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=20, help="training steps per engine per round")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--accuracy", action="store_true", help="measure the studio's test accuracy in chromium instead")
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--wall-limit", type=float, default=400.0, help="give up after this many wall seconds (--accuracy)")
    p.add_argument("--epochs", type=int, default=None, help="epochs for --accuracy (default: the studio's)")
    p.add_argument("--subset", type=Path, default=None, help="an MNIST subset .npz to ship instead (--accuracy)")
    args = p.parse_args(argv)
    if args.accuracy:
        run_accuracy(args)
    else:
        run_speed(args)


if __name__ == "__main__":
    main()
