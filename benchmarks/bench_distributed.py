"""Data-parallel LeNet-5 training on two CPU devices: 2 processes x 1 device (jax.distributed, gloo over TCP)
against 1 process x 2 devices (XLA_FLAGS=--xla_force_host_platform_device_count=2), in the same run.

    python benchmarks/bench_distributed.py                     # 7 rounds x 40 steps, batch 32 and 256
    python benchmarks/bench_distributed.py --rounds 3 --steps 20 --batch-sizes 64

Both sides run what `python -m core.jax.train` runs on a CPU: the data resident and replicated on both devices,
`Compiled.train_epoch(loop="steps")` (one jitted step per batch, each batch split over the two devices, SGD).
They differ only in where the second device lives: in the same process (the collectives are memory copies) or
in a second process (the collectives go through gloo over 127.0.0.1, as between two hosts). Each device gets one
core and one thread: the two processes are pinned to one core each, the single process to both, XLA single-
threaded (--xla_cpu_multi_thread_eigen=false). All three workers start first, compile and warm up, then wait;
rounds alternate the order of the two sides, each timing --steps steps per batch size; we report medians
[min-max] of images/s and the median of the per-round ratios. The collectives XLA put in one step are
counted from the compiled program (the same program on both sides) and printed, since they explain the ratio.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLLECTIVES = ("all-reduce", "all-gather", "collective-permute", "all-to-all", "reduce-scatter")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256])
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--steps", type=int, default=40, help="timed steps per round, side and batch size")
    p.add_argument("--cpus", type=int, nargs=2, default=None,
                   help="the two cores to use (default: the first two this process may run on)")
    p.add_argument("--worker", choices=["process", "forced"], help=argparse.SUPPRESS)
    p.add_argument("--coordinator", help=argparse.SUPPRESS)
    p.add_argument("--process-id", type=int, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# -- a worker: one side's process, stepping on command --------------------------------------------------------
def worker(args):
    """Compile and warm up every batch size, then for each line "B" on stdin time one epoch of --steps steps at
    batch B and (process 0) print "time SECONDS"."""
    cpus = set(args.cpus) if args.worker == "forced" else {args.cpus[args.process_id]}
    os.sched_setaffinity(0, cpus)          # before jax starts its threads
    os.environ["XLA_FLAGS"] = ("--xla_force_host_platform_device_count=2 " if args.worker == "forced" else "") + \
        "--xla_cpu_multi_thread_eigen=false"
    sys.path.insert(0, str(ROOT))
    import jax
    import numpy as np

    from core import models, optimizers
    from core.jax import compiled, distributed, parallel
    if args.worker == "process":
        distributed.initialize(args.coordinator, 2, args.process_id)
    assert len(jax.devices()) == 2, jax.devices()
    mesh = parallel.data_mesh()
    model = models.lenet5()
    jm = compiled.compile(model, optimizer=optimizers.SGD(0.01), mesh=mesh)
    params = model.init(seed=0)
    carry = [parallel.replicate(params, mesh), parallel.replicate(jm.init_optimizer(params), mesh)]
    rng = np.random.default_rng(0)
    data = {}
    for b in args.batch_sizes:
        x = rng.standard_normal((args.steps * b, 32, 32, 1)).astype(np.float32)
        y = rng.integers(0, 10, args.steps * b).astype(np.int32)
        data[b] = parallel.replicate(x, mesh), parallel.replicate(y, mesh)
    key = jax.random.key(0)

    def epoch(b):
        p, s, losses = jm.train_epoch(*carry, *data[b], key, batch_size=b, loop="steps")
        losses = np.asarray(losses)
        carry[:] = [p, s]
        return losses

    counts = {}
    for b in args.batch_sizes:
        epoch(b)
        xb, yb = data[b]
        idx = parallel.replicate(np.arange(b, dtype=np.int32), mesh)
        hlo = jm._jit("batch_step").lower(*carry, xb, yb, idx, None).compile().as_text()
        counts[b] = {op: len(re.findall(rf"\s{op}(-start)?\(", hlo)) for op in COLLECTIVES}
    if jax.process_index() == 0:
        print("ready " + " ".join(f"{b}:" + ",".join(f"{op}={n}" for op, n in c.items() if n)
                                   for b, c in counts.items()), flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        b = int(line)
        t0 = time.perf_counter()
        losses = epoch(b)
        seconds = time.perf_counter() - t0
        if jax.process_index() == 0:
            print(f"time {seconds} {float(losses[-1])}", flush=True)


# -- the driver ------------------------------------------------------------------------------------------------
class Side:
    """One side's worker processes; process 0's stdout is read, every process's stdin is written."""

    def __init__(self, name, commands, log):
        self.name, self.log = name, log
        env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONUNBUFFERED": "1"}
        self.procs = [subprocess.Popen(c, stdin=subprocess.PIPE, stdout=subprocess.PIPE if i == 0 else log,
                                       stderr=log, env=env, text=True, cwd=ROOT) for i, c in enumerate(commands)]

    def expect(self, prefix):
        for line in self.procs[0].stdout:
            if line.startswith(prefix):
                return line[len(prefix):].strip()
        raise RuntimeError(f"{self.name}: a worker stopped; its output is in {self.log.name}")

    def epoch(self, b):
        for p in self.procs:
            p.stdin.write(f"{b}\n")
            p.stdin.flush()
        return float(self.expect("time ").split()[0])

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.stdin.write("\n")
                    p.stdin.flush()
                except BrokenPipeError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    args = parse_args()
    if args.worker:
        return worker(args)
    cpus = args.cpus or sorted(os.sched_getaffinity(0))[:2]
    if len(set(cpus)) < 2:
        sys.exit("bench_distributed needs two cores (--cpus A B)")
    common = [sys.executable, __file__, "--batch-sizes", *map(str, args.batch_sizes), "--steps", str(args.steps),
              "--cpus", *map(str, cpus)]
    port = free_port()
    with tempfile.NamedTemporaryFile("w+", prefix="bench_distributed.", suffix=".log", delete=False) as log:
        sides = {
            "2 processes x 1 device": Side("processes", [
                [*common, "--worker", "process", "--coordinator", f"127.0.0.1:{port}", "--process-id", str(i)]
                for i in (0, 1)], log),
            "1 process x 2 devices": Side("forced", [[*common, "--worker", "forced"]], log),
        }
        try:
            ready = {name: side.expect("ready ") for name, side in sides.items()}
            print(f"LeNet-5 data-parallel training (SGD) on 2 CPU devices, images/s; jax {version('jax')}, "
                  f"cores {cpus[0]} and {cpus[1]}, one thread per device, {args.rounds} rounds x {args.steps} "
                  f"steps, medians [min-max]")
            for name, counted in ready.items():
                print(f"collectives in one step of {name} (batch: ops): {counted}")
            names = list(sides)
            for b in args.batch_sizes:
                rates = {name: [] for name in names}
                for r in range(args.rounds):
                    for name in (names if r % 2 == 0 else names[::-1]):
                        rates[name].append(args.steps * b / sides[name].epoch(b))
                ratios = [p / f for p, f in zip(*rates.values())]
                row = "  ".join(f"{name} {statistics.median(v):8,.0f} [{min(v):,.0f}-{max(v):,.0f}]"
                                for name, v in rates.items())
                print(f"batch {b:4d}: {row}  processes/forced {statistics.median(ratios):.2f}x "
                      f"[{min(ratios):.2f}-{max(ratios):.2f}]", flush=True)
        finally:
            for side in sides.values():
                side.close()
        os.unlink(log.name)


if __name__ == "__main__":
    main()
