"""The optimizer lab's race in CPython: 6 optimizers x 200 steps on each 2-D surface (issue 9).

    python benchmarks/optimizer_race.py            # 20 rounds per surface, median and spread

The browser target is <= 100 ms per race redrawn (Pyodide is slower than CPython; the browser measurement is a
separate run). This prints the CPython time of core.surfaces.race alone, and its share of that 100 ms budget.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import surfaces  # noqa: E402

TARGET_MS = 100.0


def time_race(name, steps, rounds):
    optimizers = surfaces.default_optimizers(name)
    surfaces.race(name, optimizers, steps=steps)            # warm-up: imports, noise blocks
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = surfaces.race(name, optimizers, steps=steps)
        times.append((time.perf_counter() - t0) * 1e3)
    return times, result


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--rounds", type=int, default=20)
    args = p.parse_args()
    print(f"race: 6 optimizers x {args.steps} steps, {args.rounds} rounds, Python {sys.version.split()[0]}")
    for name in surfaces.SURFACES:
        times, result = time_race(name, args.steps, args.rounds)
        med = statistics.median(times)
        stopped = [label for label, r in result.items() if r["stopped"]]
        print(f"{name:12s} median {med:6.1f} ms  (min {min(times):.1f}, max {max(times):.1f})  "
              f"{med / TARGET_MS:.2f} of the browser's {TARGET_MS:.0f} ms"
              + (f"  stopped: {', '.join(stopped)}" if stopped else ""))


if __name__ == "__main__":
    main()
