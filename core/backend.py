"""Where NumPy runs: the platform flag `WASM` and the matrix product every layer uses, routed to the faster form.

Under Pyodide (WebAssembly) NumPy has no BLAS: `a @ b` falls back to a naive loop (0.6-2.5 GFLOP/s), while
np.einsum's own vectorised loops reach about 5.5 GFLOP/s (measured, docs/benchmarks.md). On CPython, BLAS wins.
"""
import sys

import numpy as np

# Pyodide (WebAssembly): NumPy there has no BLAS and no SIMD, so every module that has a faster form for that
# case (einsum products, np.where masks, the "exact" and "fft" conv layouts) switches on this; tests flip it.
WASM = sys.platform == "emscripten"

_SUBSCRIPTS = {(2, 2): "ij,jk->ik", (1, 2): "j,jk->k", (2, 1): "ij,j->i"}


def matmul(a, b, out=None):
    """a (M, K) or (K,) times b (K, N) or (K,): the same result as a @ b (written into `out` if given)."""
    if WASM:
        return np.einsum(_SUBSCRIPTS[a.ndim, b.ndim], a, b, out=out)
    return np.matmul(a, b, out=out)
