"""Profile the NumPy core's LeNet-5 training step under Pyodide 0.27.7 (WebAssembly) in Node.

    python benchmarks/pyodide_profile.py speed   [--batch 32] [--steps 20] [--rounds 5]
    python benchmarks/pyodide_profile.py profile [--batch 32] [--steps 20] [--top 30]
    python benchmarks/pyodide_profile.py shapes  [--batch 32] [--repeat 20]
    python benchmarks/pyodide_profile.py convs   [--batch 32] [--repeat 20]
    python benchmarks/pyodide_profile.py layers  [--batch 32] [--steps 20]
    python benchmarks/pyodide_profile.py run FILE.py

speed:   images/s of the training step (plain SGD, synthetic data), median of rounds: a quick A/B without the peers
         (benchmarks/browser_training.py is the real comparison).
profile: cProfile inside Pyodide over the training steps, the functions by own time.
shapes:  every matrix product of one LeNet-5 step at this batch, timed through each candidate routine
         (np.einsum with both operand orders, np.dot, np.matmul), GFLOP/s per shape. C3's rows are the products
         of its "exact" layout, which the "fft" layout replaced (see convs).
convs:   each of LeNet-5's convolutions (forward with relu, then backward) through every layout that applies,
         and the one conv.py picks (conv_fast.pick_layout, the cost model).
layers:  the training step's time per layer (forward, backward), the loss and the optimizer, without cProfile's
         overhead (which inflates Python-heavy code): ms per step.
run:     any Python file, with the repository's core/ importable (for one-off experiments).

Uses the same Pyodide as browser_training.py (the site build's dist/pyodide and the build cache's pyodide-core ($CNN_SITE_CACHE, else .cache/); the site is
built only when missing: only Pyodide and its NumPy are taken from it). --core DIR runs another copy of core/.
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUNNER = r"""
import fs from "fs";
import path from "path";
const opts = JSON.parse(process.argv[1]);
const { loadPyodide } = await import(path.join(opts.pyodideCore, "pyodide.mjs"));
const py = await loadPyodide({ indexURL: opts.pyodideIndex, stdout: (s) => console.log(s),
                               stderr: (s) => console.error(s) });
await py.loadPackage(["numpy"], { messageCallback: () => {} });
py.FS.mkdirTree("/home/pyodide/bench/core");
for (const name of fs.readdirSync(opts.coreDir)) {
  if (name.endsWith(".py")) py.FS.writeFile(`/home/pyodide/bench/core/${name}`,
                                            fs.readFileSync(path.join(opts.coreDir, name)));
}
py.runPython("import sys; sys.path.insert(0, '/home/pyodide/bench'); sys.argv = " + JSON.stringify(opts.argv));
py.runPython(fs.readFileSync(opts.script, "utf8"));
"""

STEP = r"""
import sys, time
import numpy as np
from core import models, optimizers
ARGS = dict(a.split("=") for a in sys.argv)
B, STEPS = int(ARGS["batch"]), int(ARGS["steps"])
rng = np.random.default_rng(0)
X = rng.random((256, 32, 32, 1), dtype=np.float32)
Y = rng.integers(0, 10, 256)
model = models.lenet5()
params = model.init(seed=0)
opt = optimizers.SGD(0.01)
state = opt.init(params)

def train(steps):
    global params, state
    t0 = time.perf_counter()
    for s in range(steps):
        i = (s * B) % (256 - B + 1)
        loss, grads = model.value_and_grad(params, X[i:i + B], Y[i:i + B])
        params, state = opt.update(grads, state, params)
    return steps * B / (time.perf_counter() - t0)

train(2)
"""

SPEED = STEP + r"""
rates = sorted(train(STEPS) for _ in range(int(ARGS["rounds"])))
print(f"batch {B}: {rates[len(rates) // 2]:,.0f} img/s (rounds {', '.join(f'{r:,.0f}' for r in rates)})")
"""

PROFILE = STEP + r"""
import cProfile, pstats, io
pr = cProfile.Profile()
pr.enable()
train(STEPS)
pr.disable()
s = io.StringIO()
pstats.Stats(pr, stream=s).sort_stats("tottime").print_stats(int(ARGS["top"]))
print(s.getvalue())
"""

# the start of the shapes and convs scripts: their arguments and a best-of-REPEAT timer
TIMING = r"""
import sys, time
import numpy as np
ARGS = dict(a.split("=") for a in sys.argv)
B, REPEAT = int(ARGS["batch"]), int(ARGS["repeat"])

def best(f):
    f()
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter(); f(); times.append(time.perf_counter() - t0)
    return min(times)
"""

SHAPES = TIMING + r"""
# (name, M, K, N): the products of one LeNet-5 step at batch B, in the "exact" conv layout Pyodide uses
SHAPES = [("C1 fwd", 6, 25, B * 28 * 28), ("C1 dW", 25, B * 28 * 28, 6),
          ("C3 fwd", 16, 150, B * 10 * 10), ("C3 dW", 150, B * 10 * 10, 16), ("C3 dx", 150, 16, B * 10 * 10),
          ("C5 fwd", B, 400, 120), ("C5 dW", 400, B, 120), ("C5 dx", B, 120, 400),
          ("F6 fwd", B, 120, 84), ("F6 dW", 120, B, 84), ("F6 dx", B, 84, 120),
          ("OUT fwd", B, 84, 10), ("OUT dW", 84, B, 10), ("OUT dx", B, 10, 84)]


rng = np.random.default_rng(0)
print(f"{'product':<8} {'M x K x N':>20}  " + "  ".join(f"{n:>10}" for n in
      ["ein ik", "ein ki^T", "ein T-in", "dot", "matmul"]) + "   (GFLOP/s)")
for name, m, k, n in SHAPES:
    a = rng.random((m, k), dtype=np.float32)
    b = rng.random((k, n), dtype=np.float32)
    at, bt = np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)
    cands = [lambda: np.einsum("ij,jk->ik", a, b),          # both as stored
             lambda: np.einsum("kj,ji->ik", bt, at),         # the transposed operands, contiguous
             lambda: np.einsum("ji,kj->ik", at, bt),         # a given as a.T view source etc.
             lambda: np.dot(a, b), lambda: np.matmul(a, b)]
    rates = [2 * m * k * n / best(f) / 1e9 for f in cands]
    print(f"{name:<8} {f'{m}x{k}x{n}':>20}  " + "  ".join(f"{r:10.2f}" for r in rates))
"""

LAYERS = STEP + r"""
from collections import defaultdict
spent = defaultdict(float)

def timed(key, fn):
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        spent[key] += time.perf_counter() - t0
        return result
    return wrapper

for node in model.nodes[1:]:
    layer = node.layer
    layer.forward = timed((layer.name, "forward"), layer.forward)
    layer.backward = timed((layer.name, "backward"), layer.backward)
opt.update = timed(("optimizer", "update"), opt.update)
train(STEPS)              # warm up: the first few dozen steps run slower (WebAssembly tiers up)
spent.clear()
t0 = time.perf_counter()
train(STEPS)
total = (time.perf_counter() - t0) / STEPS * 1e3
print(f"batch {B}: {total:.2f} ms per training step ({B / total * 1e3:,.0f} img/s); ms per step:")
for (name, phase), t in spent.items():
    print(f"  {name:<10} {phase:<9} {t / STEPS * 1e3:6.2f}")
rest = total - sum(spent.values()) / STEPS * 1e3
print(f"  {'the rest (loss, model loop)':<20} {rest:6.2f}")
"""

CONVS = TIMING + r"""
from core import arithmetic, conv, conv_fast

rng = np.random.default_rng(0)
print(f"LeNet-5 convolutions at batch {B}: forward (relu) + backward, ms")
for name, hw, kernel, need_dx in [("C1", 32, (5, 5, 1, 6), False), ("C3", 14, (5, 5, 6, 16), True),
                                  ("C5", 5, (5, 5, 16, 120), True)]:
    x = rng.random((B, hw, hw, kernel[2]), dtype=np.float32)
    k = rng.standard_normal(kernel).astype(np.float32) * 0.1
    b = np.zeros(kernel[3], np.float32)
    out, cache = conv.conv2d_forward(x, k, b, relu=True)
    chosen = cache["layout"]
    dout = rng.standard_normal(out.shape).astype(np.float32)

    def step(layout):
        _, c = conv.conv2d_forward(x, k, b, relu=True, layout=layout)
        conv.conv2d_backward(dout, c, need_dx)

    times = {}
    for layout in ("rows", *conv_fast.LAYOUTS):
        if layout in ("shift", "exact") and arithmetic.output_length(hw, kernel[0], 1, "valid") < 2:
            continue                               # one output pixel: only rows (and fft) are worth timing
        times[layout] = best(lambda: step(layout)) * 1e3
    print(f"  {name} {B}x{hw}x{hw}x{kernel[2]} * {kernel}: " +
          ", ".join(f"{lay} {t:.2f}" for lay, t in times.items()) + f"; picked: {chosen}")
"""


def runner_paths(core):
    sys.path.insert(0, str(ROOT / "tests"))
    import site_helpers
    dist = ROOT / "dist"
    if not (dist / "pyodide" / "pyodide.asm.wasm").exists():
        dist = site_helpers.ensure_built()
    return {"pyodideCore": str(site_helpers.pyodide_core()), "pyodideIndex": f"{dist / 'pyodide'}/",
            "coreDir": str(core)}


def run_in_pyodide(script, argv, core=ROOT / "core"):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "script.py"
        path.write_text(script)
        opts = dict(runner_paths(core), script=str(path), argv=argv)
        subprocess.run(["node", "--input-type=module", "-e", RUNNER, json.dumps(opts)], check=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("mode", choices=["speed", "profile", "shapes", "convs", "layers", "run"])
    p.add_argument("file", nargs="?", help="the Python file for `run`")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--core", type=Path, default=ROOT / "core", help="the core/ to run (e.g. an older copy, for A/B)")
    args = p.parse_args(argv)
    script = {"speed": SPEED, "profile": PROFILE, "shapes": SHAPES, "convs": CONVS, "layers": LAYERS}.get(args.mode)
    if args.mode == "run":
        if not args.file:
            p.error("run needs a Python file")
        script = Path(args.file).read_text()
    run_in_pyodide(script, [f"{k}={v}" for k, v in vars(args).items() if k not in ("mode", "file", "core")],
                   args.core)


if __name__ == "__main__":
    main()
