"""Activations by Keras name: forward(name, z) -> a and backward(name, dout, a) -> dz.

Every rule here can be written from the output a alone (relu: a > 0 exactly where z > 0), so layers keep
only a, and relu can overwrite z in place.
"""
import numpy as np

from . import backend

NAMES = (None, "linear", "relu", "sigmoid", "tanh", "softmax")


def check(name, owner="layer"):
    if name not in NAMES:
        raise ValueError(f"{owner}: unknown activation {name!r}; choose one of "
                         f"{', '.join(repr(n) for n in NAMES)}")
    return None if name == "linear" else name


def softmax(z, axis=-1):
    """Numerically stable softmax (subtracting the max changes nothing mathematically)."""
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def forward(name, z, inplace=False):
    """a = activation(z); inplace=True lets relu reuse z's memory (z must be a fresh temporary)."""
    if name is None:
        return z
    if name == "relu":
        return np.maximum(z, 0, out=z) if inplace else np.maximum(z, 0)
    if name == "sigmoid":
        # 1/(1+exp(-z)) overflows for very negative z; 0.5*(1+tanh(z/2)) is the same function, stable.
        return 0.5 * (1 + np.tanh(0.5 * z))
    if name == "tanh":
        return np.tanh(z)
    if name == "softmax":
        return softmax(z)
    raise ValueError(f"unknown activation {name!r}")


def backward(name, dout, a):
    """dL/dz from dL/da = dout, given the activation's output a."""
    if name is None:
        return dout
    if name == "relu":
        # the same values; under Pyodide (backend.WASM) np.where is 3-4x faster than multiplying by a bool
        # mask, on CPython the multiply is the fast one
        return np.where(a > 0, dout, 0) if backend.WASM else dout * (a > 0)
    if name == "sigmoid":
        return dout * a * (1 - a)
    if name == "tanh":
        return dout * (1 - a * a)
    if name == "softmax":
        # Jacobian-vector product of softmax: a * (dout - sum(dout * a)).
        return a * (dout - (dout * a).sum(axis=-1, keepdims=True))
    raise ValueError(f"unknown activation {name!r}")
