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


def to64(params):
    """A params tree in float64 (the checks' precision)."""
    return {k: {w: a.astype(np.float64) for w, a in v.items()} for k, v in params.items()}


def check_model(model, x, y, loss="categorical_crossentropy", seed=0, sample=None, **kw):
    """model.value_and_grad's grads of every param against central differences (float64 params from
    model.init(seed)); `sample` entries at random of arrays larger than that."""
    params = to64(model.init(seed))
    _, grads = model.value_and_grad(params, x, y, loss=loss, **kw)
    f = lambda: float(model.value_and_grad(params, x, y, loss=loss, **kw)[0])
    rng = np.random.default_rng(1)
    for name, ws in params.items():
        for w, arr in ws.items():
            if sample and arr.size > sample:
                # large kernels: check a random subset of entries
                idx = [tuple(rng.integers(0, s) for s in arr.shape) for _ in range(sample)]
                for i in idx:
                    old = arr[i]
                    arr[i] = old + 1e-6
                    fp = f()
                    arr[i] = old - 1e-6
                    fm = f()
                    arr[i] = old
                    num = (fp - fm) / 2e-6
                    assert abs(grads[name][w][i] - num) <= 1e-7 + 1e-5 * abs(num), f"{name}/{w}{i}"
            else:
                assert_close(grads[name][w], numeric_grad(f, arr), what=f"{name}/{w}")
