"""LeNet-5 throughput: the NumPy core against PyTorch on the CPU, one thread each (issue 2).

    python benchmarks/bench_lenet.py              # full: 7 rounds, every config
    python benchmarks/bench_lenet.py --quick      # 3 short rounds, a smoke run
    python benchmarks/bench_lenet.py --profile    # cProfile of the core's training step at batch 32

Measures images/s for a training step (forward + backward + optimizer step; SGD and Adam) and for inference,
at batch 1, 32 and 256, for core.models.lenet5() and the same network built in PyTorch (same layer shapes,
the core's weights copied in, NHWC input transposed to NCHW once, outside the timed loop).

The machine is shared and noisy, so the engines are interleaved in rounds (their order rotated each round),
each round yields one core/torch ratio per config, and we print medians and the ratios' spread. Before timing,
the gradients and one SGD and one Adam step are checked to agree between the engines (float64), so
both do the same work.

This is a benchmark, not a test: it needs PyTorch (not in requirements-dev.txt; it is large) and prints figures.
It never changes OPENBLAS_CORETYPE; it reports which OpenBLAS kernel NumPy runs (see benchmarks/README.md).
"""
import os
import sys

# One thread for every BLAS/OpenMP pool. These must be set before NumPy or torch load their libraries,
# so if they are not, re-run this same command with them set.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
if any(os.environ.get(v) != "1" for v in THREAD_VARS):
    os.environ.update({v: "1" for v in THREAD_VARS})
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])

import argparse  # noqa: E402  (after the re-exec on purpose)
import cProfile  # noqa: E402
import ctypes  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from core import models, optimizers  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("bench_lenet needs PyTorch for the comparison: pip install torch (CPU build); see benchmarks/README.md")

BATCHES = (1, 32, 256)
TARGETS = {("train", 32): 0.75, ("train", 1): 1.5}   # issue 2: core/torch at least this, for SGD and Adam
LR = {"sgd": 0.01, "adam": 1e-3}                       # Keras' defaults, used by both engines


# ---------------------------------------------------------------- the machine and its BLAS

def openblas_kernel():
    """The OpenBLAS core type NumPy's BLAS runs (e.g. 'Haswell', 'SkylakeX'), or None if it cannot be told.

    threadpoolctl knows every BLAS; without it, ask OpenBLAS directly through the library NumPy loaded.
    """
    try:
        from threadpoolctl import threadpool_info
        for info in threadpool_info():
            if info.get("internal_api") == "openblas":
                return info.get("architecture")
    except ImportError:
        pass
    with open("/proc/self/maps") as maps:
        libs = {line.split()[-1] for line in maps if "openblas" in line and ".so" in line}
    for path in sorted(libs):
        lib = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename", "openblas_get_corename64_",
                       "openblas_get_corename"):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def environment():
    """What the figures depend on: versions, CPU, threads, NumPy's BLAS build and kernel, load."""
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    return {
        "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
        "cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "numpy_blas": f"{blas.get('name')} {blas.get('version')}", "openblas_kernel": openblas_kernel(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "torch_mkldnn": torch.backends.mkldnn.is_available(), "load_average": os.getloadavg(),
    }


# ---------------------------------------------------------------- the two engines, built identically

def torch_lenet5():
    """LeNet-5 exactly as core.models.lenet5(): valid 5x5 convs, 2x2 max pools, ReLU, logits out."""
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


TORCH_LAYERS = {"C1": 0, "C3": 3, "C5": 6, "F6": 9, "OUTPUT": 11}   # core layer name -> index in torch_lenet5()


def copy_into_torch(params, net, dtype=torch.float32):
    """Core params (HWIO conv kernels, (in, out) dense kernels) -> the torch modules' OIHW / (out, in) weights.

    C5's output is 1x1x120, so flattening NHWC and NCHW give the same order and F6 needs no permutation.
    """
    net.to(dtype)
    with torch.no_grad():
        for name, i in TORCH_LAYERS.items():
            k = params[name]["kernel"]
            w = k.transpose(3, 2, 0, 1) if k.ndim == 4 else k.T
            net[i].weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            net[i].bias.copy_(torch.from_numpy(params[name]["bias"]))
    return net


def torch_grads_as_core(net):
    """The torch modules' gradients laid out like the core's params tree."""
    out = {}
    for name, i in TORCH_LAYERS.items():
        g = net[i].weight.grad.numpy()
        out[name] = {"kernel": g.transpose(2, 3, 1, 0) if g.ndim == 4 else g.T, "bias": net[i].bias.grad.numpy()}
    return out


def torch_params_as_core(net):
    out = {}
    for name, i in TORCH_LAYERS.items():
        w = net[i].weight.detach().numpy()
        out[name] = {"kernel": w.transpose(2, 3, 1, 0) if w.ndim == 4 else w.T, "bias": net[i].bias.detach().numpy()}
    return out


def torch_optimizer(name, net):
    if name == "sgd":
        return torch.optim.SGD(net.parameters(), lr=LR["sgd"])
    # Keras' (and the core's) epsilon is 1e-7, torch's default 1e-8.
    return torch.optim.Adam(net.parameters(), lr=LR["adam"], eps=1e-7)


def batch(n, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return rng.random((n, 32, 32, 1)).astype(dtype), rng.integers(0, 10, n)


def to_torch(x, y):
    """NHWC numpy -> NCHW torch (a copy), labels -> int64; done once, outside any timed loop."""
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))), torch.from_numpy(y.astype(np.int64))


# ---------------------------------------------------------------- the honesty check

def max_rel_err(a_tree, b_tree):
    return max(float(np.max(np.abs(a_tree[k][w] - b_tree[k][w])) / (float(np.max(np.abs(b_tree[k][w]))) + 1e-30))
               for k in a_tree for w in a_tree[k])


def assert_trees_close(a_tree, b_tree, rtol, what):
    for k in b_tree:
        for w in b_tree[k]:
            # atol scaled to the array: elements near zero carry only cancellation noise
            atol = rtol * float(np.max(np.abs(b_tree[k][w])))
            np.testing.assert_allclose(a_tree[k][w], b_tree[k][w], rtol=rtol, atol=atol,
                                       err_msg=f"{what}: {k}/{w} differs between core and torch")


def check_engines_agree(model, n=32):
    """Same weights, same batch: the loss, every gradient, and the update of one SGD and one Adam step agree
    (rtol 1e-4). In float64, because Adam's first step is lr * g / (|g| + eps), sign-like, which magnifies
    float32 rounding of tiny gradients; the timed float32 runs execute the same code. Returns max rel errors."""
    report = {}
    params64 = {k: {w: a.astype(np.float64) for w, a in v.items()} for k, v in model.init(seed=1).items()}
    x, y = batch(n, seed=1, dtype=np.float64)
    loss, grads = model.value_and_grad(params64, x, y)
    net = copy_into_torch(params64, torch_lenet5(), torch.float64)
    xt, yt = to_torch(x, y)
    tloss = F.cross_entropy(net(xt), yt)
    tloss.backward()
    np.testing.assert_allclose(loss, tloss.item(), rtol=1e-10, err_msg="loss differs between core and torch")
    tgrads = torch_grads_as_core(net)
    assert_trees_close(grads, tgrads, 1e-4, "gradient (float64)")
    report["grad_float64"] = max_rel_err(grads, tgrads)

    for name in ("sgd", "adam"):
        opt = optimizers.get(name, learning_rate=LR[name])
        stepped, _ = opt.update(grads, opt.init(params64), params64)
        net = copy_into_torch(params64, torch_lenet5(), torch.float64)
        topt = torch_optimizer(name, net)
        F.cross_entropy(net(xt), yt).backward()
        topt.step()
        # compare the change each engine made: the update, not the (much larger) weights
        delta = {k: {w: stepped[k][w] - params64[k][w] for w in params64[k]} for k in params64}
        tp = torch_params_as_core(net)
        tdelta = {k: {w: tp[k][w] - params64[k][w] for w in params64[k]} for k in params64}
        assert_trees_close(delta, tdelta, 1e-4, f"one {name} step (float64)")
        report[f"{name}_step"] = max_rel_err(delta, tdelta)
    return report


# ---------------------------------------------------------------- what gets timed

def core_runner(model, kind, n, optimizer=None):
    """A no-argument function doing one timed unit of work with the core, its state in a closure."""
    x, y = batch(n)
    state = {"params": model.init(seed=0)}
    if kind == "infer":
        return lambda: model.apply(state["params"], x)
    opt = optimizers.get(optimizer, learning_rate=LR[optimizer])
    state["opt"] = opt.init(state["params"])

    def step():
        _, grads = model.value_and_grad(state["params"], x, y)
        state["params"], state["opt"] = opt.update(grads, state["opt"], state["params"])
    return step


def torch_runner(model, kind, n, optimizer=None):
    net = copy_into_torch(model.init(seed=0), torch_lenet5())
    xt, yt = to_torch(*batch(n))
    if kind == "infer":
        net.eval()

        def infer():
            with torch.inference_mode():
                return net(xt)
        return infer
    opt = torch_optimizer(optimizer, net)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(xt), yt).backward()
        opt.step()
    return step


def calibrate(fn, min_seconds):
    """Warm up, then how many calls take about min_seconds (at least 1)."""
    fn()
    fn()
    calls, elapsed = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds / 4 or calls >= 1 << 16:
            return max(1, round(calls * min_seconds / max(elapsed, 1e-9)))
        calls *= 4


def measure(fn, calls):
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return time.perf_counter() - start


def configs():
    out = [("train", n, opt) for opt in ("sgd", "adam") for n in BATCHES]
    return out + [("infer", n, None) for n in BATCHES]


def label(cfg):
    kind, n, opt = cfg
    return f"{kind} {opt} b={n}" if opt else f"{kind} b={n}"


def run_rounds(model, rounds, min_seconds, log=print):
    """{config: {"core": [img/s per round], "torch": [...], "ratio": [core/torch per round]}}."""
    engines = {"core": core_runner, "torch": torch_runner}
    runners, calls = {}, {}
    for cfg in configs():
        for name, make in engines.items():
            runners[cfg, name] = make(model, *cfg)
            calls[cfg, name] = calibrate(runners[cfg, name], min_seconds)
    results = {cfg: {"core": [], "torch": [], "ratio": []} for cfg in configs()}
    names = list(engines)
    for r in range(rounds):
        for cfg in configs():
            order = names[r % 2:] + names[:r % 2]        # rotate who goes first
            speed = {}
            for name in order:
                seconds = measure(runners[cfg, name], calls[cfg, name])
                speed[name] = calls[cfg, name] * cfg[1] / seconds
                results[cfg][name].append(speed[name])
            results[cfg]["ratio"].append(speed["core"] / speed["torch"])   # same round, same noise
        log(f"  round {r + 1}/{rounds} done (load average {os.getloadavg()[0]:.2f})")
    return results


def summarize(results):
    rows = []
    for cfg, res in results.items():
        ratio = res["ratio"]
        target = TARGETS.get(cfg[:2])
        rows.append({"config": label(cfg), "core": statistics.median(res["core"]),
                     "torch": statistics.median(res["torch"]), "ratio": statistics.median(ratio),
                     "ratio_min": min(ratio), "ratio_max": max(ratio), "target": target,
                     "met": None if target is None else statistics.median(ratio) >= target})
    return rows


def print_table(rows):
    print(f"{'config':<17} {'core img/s':>11} {'torch img/s':>12} {'core/torch':>11} {'spread (min-max)':>17}  target")
    for r in rows:
        target = "" if r["target"] is None else f">= {r['target']:.2f}x  {'MET' if r['met'] else 'NOT MET'}"
        print(f"{r['config']:<17} {r['core']:>11,.0f} {r['torch']:>12,.0f} {r['ratio']:>10.2f}x "
              f"{r['ratio_min']:>8.2f}-{r['ratio_max']:.2f}x  {target}")


# ---------------------------------------------------------------- profile

def profile(model, optimizer, steps, top):
    """cProfile the core's training step at batch 32; print the top functions by own time and by cumulative."""
    step = core_runner(model, "train", 32, optimizer)
    step()
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    seconds = time.perf_counter() - start
    print(f"core training step, {optimizer}, batch 32: {steps} steps in {seconds:.2f} s under the profiler "
          f"({steps * 32 / seconds:,.0f} images/s; the profiler adds overhead)\n")
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)


# ---------------------------------------------------------------- main

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=None, help="rounds of interleaved measurements (default 7; 3 quick)")
    p.add_argument("--quick", action="store_true", help="short smoke run: 3 rounds of about 0.1 s per measurement")
    p.add_argument("--seconds", type=float, default=None,
                   help="target seconds per measurement (default 0.5; 0.1 with --quick)")
    p.add_argument("--profile", action="store_true", help="cProfile the core's training step at batch 32 instead")
    p.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="optimizer for --profile")
    p.add_argument("--steps", type=int, default=200, help="training steps for --profile")
    p.add_argument("--top", type=int, default=25, help="functions to list with --profile")
    p.add_argument("--json", metavar="PATH", help="also write the environment and results as JSON")
    args = p.parse_args(argv)
    rounds = args.rounds if args.rounds is not None else 3 if args.quick else 7
    seconds = args.seconds if args.seconds is not None else 0.1 if args.quick else 0.5
    if rounds < 1 or seconds <= 0 or args.steps < 1 or args.top < 1:
        p.error("--rounds, --steps and --top must be >= 1, --seconds > 0")

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    model = models.lenet5()
    env = environment()
    print("environment:", ", ".join(f"{k}={v}" for k, v in env.items()))
    if env["OPENBLAS_CORETYPE"]:
        print(f"note: OPENBLAS_CORETYPE={env['OPENBLAS_CORETYPE']} pins NumPy's OpenBLAS to the "
              f"{env['openblas_kernel']} kernel; see benchmarks/README.md (this script never changes it)")

    if args.profile:
        profile(model, args.optimizer, args.steps, args.top)
        return 0

    check = check_engines_agree(model)
    print("engines agree (float64, max relative error): gradients {grad_float64:.1e}, one SGD step {sgd_step:.1e}, "
          "one Adam step {adam_step:.1e}".format(**check))
    print(f"{rounds} rounds, about {seconds:g} s per measurement, engine order rotated each round; single-threaded")
    started = time.perf_counter()
    results = run_rounds(model, rounds, seconds)
    rows = summarize(results)
    print(f"\nmedians over {rounds} rounds (images/s; ratio = median of per-round core/torch), "
          f"{time.perf_counter() - started:.0f} s, load average now {os.getloadavg()[0]:.2f}")
    print_table(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"environment": env, "agreement": check, "rounds": rounds,
                                               "seconds": seconds, "rows": rows,
                                               "raw": {label(c): r for c, r in results.items()}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
