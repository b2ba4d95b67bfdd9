"""LeNet-5 training throughput: the JAX mirror (core.jax) against PyTorch on the CPU, in the same run.

    python benchmarks/bench_jax.py                 # single-threaded both, the process pinned to one core
    python benchmarks/bench_jax.py --threads 2     # both engines allowed 2 threads (no pinning)
    python benchmarks/bench_jax.py --rounds 3 --steps 20   # quicker
    python benchmarks/bench_jax.py --profile       # where the jitted step's time goes, per XLA operation

Both train the lecture's LeNet-5 (61,706 weights, 32x32x1 input, ReLU, max pooling, softmax cross-entropy, plain
SGD) on the same synthetic batches. The JAX side is exactly what `core.jax.compile(model).train_step` runs (one
jitted step: forward, jax.grad, the core's SGD), timed in a Python loop of steps; PyTorch is eager
(forward, backward, optimizer.step). Rounds interleave the two engines (the order alternates) so that load from
other jobs hits both alike; each round times `--steps` steps after warm-up, and we report per-engine medians,
the spread, and the median of the per-round ratios, both per second of wall time and per second of the process's
CPU time. Thread settings go in before either library starts (XLA_FLAGS for XLA's CPU backend, torch.set_num_threads for
PyTorch). With --threads 1 the whole process is also pinned to one core (os.sched_setaffinity, before jax or
torch start): whatever helper threads either library starts share that core, so wall time equals CPU time and
neither engine can gain from hidden threads.
"""
import argparse
import collections
import glob
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--steps", type=int, default=40, help="timed steps per round and engine")
    p.add_argument("--cpu", type=int, default=None,
                   help="with --threads 1, the core to pin the process to (default: the last one allowed)")
    p.add_argument("--profile", action="store_true",
                   help="instead of the comparison: time each XLA operation of the JAX step (jax.profiler)")
    p.add_argument("--top", type=int, default=15, help="with --profile: how many operations to list")
    return p.parse_args()


ARGS = parse_args()
PINNED = None
if ARGS.threads == 1:   # must be set before jax initialises its CPU client and torch its thread pools
    PINNED = ARGS.cpu if ARGS.cpu is not None else max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {PINNED})
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                               " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # spinning OpenMP threads starve the other engine's rounds
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import jax
import numpy as np
import torch
from torch import nn

import core.jax as cj
from core import models, optimizers

torch.set_num_threads(ARGS.threads)
LR = 0.01


def torch_lenet5():
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(16, 120, 5), nn.ReLU(), nn.Flatten(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


def jax_runner(batches):
    """-> run(steps): `steps` jitted train steps of the core.jax mirror over the batches, blocking at the end."""
    model = models.lenet5()
    jm = cj.compile(model, optimizer=optimizers.SGD(LR))
    params = jax.device_put(model.init(seed=0))
    state = jm.init_optimizer(params)
    dev = [(jax.device_put(x), jax.device_put(y)) for x, y in batches]
    step = jm._jit("train_step")        # the jitted function train_step calls, minus its Python shape checks
    carry = [params, state]

    def run(steps):
        p, s = carry
        for i in range(steps):
            x, y = dev[i % len(dev)]
            p, s, loss = step(p, s, x, y, None)
        loss.block_until_ready()
        carry[:] = [p, s]
        return float(loss)
    return run


def torch_runner(batches):
    torch.manual_seed(0)
    net = torch_lenet5()
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    dev = [(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))), torch.from_numpy(y.astype(np.int64)))
           for x, y in batches]

    def run(steps):
        for i in range(steps):
            x, y = dev[i % len(dev)]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
        return loss.item()
    return run


def measure(batch_size, rounds, steps):
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((batch_size, 32, 32, 1)).astype(np.float32),
                rng.integers(0, 10, batch_size).astype(np.int32)) for _ in range(8)]
    runners = {"jax": jax_runner(batches), "torch": torch_runner(batches)}
    for run in runners.values():           # compile / warm caches
        run(3)
    rates = {name: [] for name in runners}
    cpu_rates = {name: [] for name in runners}
    for r in range(rounds):
        order = list(runners) if r % 2 == 0 else list(runners)[::-1]
        for name in order:
            t0, c0 = time.perf_counter(), time.process_time()
            runners[name](steps)
            rates[name].append(steps * batch_size / (time.perf_counter() - t0))
            cpu_rates[name].append(steps * batch_size / (time.process_time() - c0))
    return rates, cpu_rates


def line(label, rates):
    ratios = [j / t for j, t in zip(rates["jax"], rates["torch"])]
    row = "  ".join(f"{name} {statistics.median(v):8,.0f} [{min(v):,.0f}-{max(v):,.0f}]" for name, v in rates.items())
    return f"{label}: {row}  jax/torch {statistics.median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]"


def profile(batch_size, steps, top):
    """Per-operation time of the jitted step, from a jax.profiler trace: XLA:CPU records one event per thunk
    (a fusion, a convolution, a dot) on its executor threads. Prints the top operations per step, each with the
    jax operation it came from (the HLO's op_name), and the sum over all of them."""
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((batch_size, 32, 32, 1)).astype(np.float32),
                rng.integers(0, 10, batch_size).astype(np.int32))]
    model = models.lenet5()
    jm = cj.compile(model, optimizer=optimizers.SGD(LR))
    params = jax.device_put(model.init(seed=0))
    x, y = (jax.device_put(a) for a in batches[0])
    step = jm._jit("train_step")
    hlo = step.lower(params, jm.init_optimizer(params), x, y, None).compile().as_text()
    origin = dict(re.findall(r'%([\w.-]+) = .*?op_name="([^"]+)"', hlo))
    run = jax_runner(batches)
    run(5)
    with tempfile.TemporaryDirectory() as trace_dir:
        jax.profiler.start_trace(trace_dir)
        run(steps)
        jax.profiler.stop_trace()
        data = jax.profiler.ProfileData.from_file(glob.glob(f"{trace_dir}/**/*.xplane.pb", recursive=True)[0])
    totals = collections.Counter()
    for plane in data.planes:
        for line in plane.lines:
            if line.name != "python":
                for event in line.events:
                    # a loop's own event spans the operations of its body, which are listed too
                    if "Thunk" not in event.name and not event.name.startswith("while"):
                        totals[event.name] += event.duration_ns / steps / 1e3
    print(f"batch {batch_size}: {steps} steps, sum over XLA operations {sum(totals.values()):,.0f} us per step")
    for name, us in totals.most_common(top):
        print(f"  {us:8.1f} us  {name:28s} {origin.get(name, '')}")


def main():
    if ARGS.profile:
        for b in ARGS.batch_sizes:
            profile(b, ARGS.steps * 5, ARGS.top)
        return
    print(f"LeNet-5 training, images/s; jax {jax.__version__} ({jax.devices()[0].platform}), "
          f"torch {torch.__version__}, {ARGS.threads} thread(s) each, {ARGS.rounds} rounds x {ARGS.steps} steps, "
          f"medians [min-max]")
    if PINNED is not None:
        print(f"process pinned to CPU core {PINNED} (os.sched_setaffinity): every thread of both engines shares it, "
              f"so wall time = CPU time")
    print("wall: images per second of elapsed time; cpu: per second of this process's CPU time")
    for b in ARGS.batch_sizes:
        rates, cpu_rates = measure(b, ARGS.rounds, ARGS.steps)
        print(line(f"batch {b:4d} wall", rates), flush=True)
        print(line(f"batch {b:4d} cpu ", cpu_rates), flush=True)


if __name__ == "__main__":
    main()
