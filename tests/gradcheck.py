"""Finite-difference gradient checking in float64 (central differences)."""
import numpy as np


def numeric_grad(f, x, eps=1e-6):
    """d f / d x for a scalar function f of the array x (x is perturbed in place and restored)."""
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        fp = f()
        x[i] = old - eps
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * eps)
    return g


def assert_close(analytic, numeric, rtol=1e-5, atol=1e-7, what=""):
    err = np.abs(analytic - numeric).max()
    scale = max(np.abs(numeric).max(), 1e-8)
    assert err <= atol + rtol * scale, f"{what}: max abs error {err:.3g} vs scale {scale:.3g}"
