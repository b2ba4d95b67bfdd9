"""The benchmark scripts still run (CPU smoke only: the figures themselves are not tested)."""
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "JAX_PLATFORMS": "cpu"}
# torch is preinstalled here (a CPU build from outside PyPI), not pinned in requirements-dev.txt: PyPI's default
# torch wheel pulls gigabytes of CUDA libraries. Without it the comparisons are skipped, not failed.
HAVE_TORCH = importlib.util.find_spec("torch") is not None


def run(*args):
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def test_gpu_mnist_smoke():
    stdout = run("benchmarks/gpu_mnist.py", "--smoke")
    result = json.loads(next(l for l in stdout.splitlines() if l.startswith("RESULT "))[len("RESULT "):])
    assert result["smoke"] and len(result["jax_run"]["epochs"]) == 1
    assert result["jax_run"]["images_per_s"] > 0
    if HAVE_TORCH:
        assert result["torch_run"]["images_per_s"] > 0 and result["speedup_vs_torch"] > 0
    else:
        assert "skipped" in result["torch_run"]


@pytest.mark.skipif(not HAVE_TORCH, reason="bench_jax compares against PyTorch, which is not installed")
def test_bench_jax_smoke():
    stdout = run("benchmarks/bench_jax.py", "--rounds", "1", "--steps", "2", "--batch-sizes", "8")
    assert "batch    8 wall: jax" in stdout and "batch    8 cpu : jax" in stdout and "jax/torch" in stdout
