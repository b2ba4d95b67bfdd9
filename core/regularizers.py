"""Weight penalties added to the loss, Keras' way: Conv2D(..., kernel_regularizer=regularizers.L2(1e-4)).

    reg = regularizers.L2(0.01)            # penalty l2 * sum(w^2); Keras' default l2 is 0.01
    reg(kernel)                            # the penalty (a scalar), added to the loss by the model
    reg.gradient(kernel)                   # its gradient 2 * l2 * w, added to the kernel's gradient
    reg.get_config()                       # {"l1": 0.0, "l2": 0.01}: plain data, in the weights file

L1(l1) adds l1 * sum(|w|) (gradient l1 * sign(w)); L1L2(l1, l2) both. Each is one L1L2 object (L1 and L2 are
its two special cases, as in Keras). Written with array operators, so the JAX mirror differentiates the same
penalty. The model sums its layers' penalties into the loss (Model.loss) and their gradients into the grads
(Model.backward); a frozen layer (trainable=False) has none, as in Keras.
"""
import math

import numpy as np


def _check_factor(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"regularizers: {name} must be a finite number >= 0, got {value!r}")
    return float(value)


class L1L2:
    """l1 * sum(|w|) + l2 * sum(w^2) of a weight array w."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _check_factor(l1, "l1"), _check_factor(l2, "l2")

    def __call__(self, w):
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * abs(w).sum()
        if self.l2:
            penalty = penalty + self.l2 * (w * w).sum()
        return penalty

    def gradient(self, w):
        """d penalty / d w, of w's shape (sign(0) = 0 for l1: the subgradient at the kink)."""
        grad = np.zeros_like(w)
        if self.l1:
            grad = grad + self.l1 * np.sign(w)
        if self.l2:
            grad = grad + (2 * self.l2) * w
        return grad.astype(w.dtype, copy=False)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self):
        return f"L1L2(l1={self.l1:g}, l2={self.l2:g})"


def L2(l2=0.01):
    """Keras' L2: l2 * sum(w^2) (weight decay in the loss; its gradient 2 * l2 * w)."""
    return L1L2(l2=l2)


def L1(l1=0.01):
    """Keras' L1: l1 * sum(|w|), which pushes small weights to exactly zero."""
    return L1L2(l1=l1)


NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(spec, owner="layer"):
    """A regularizer from None (none), an L1L2 object, its config {"l1": ..., "l2": ...} (the weights file's
    form) or a Keras name ("l1", "l2", "l1_l2" with Keras' default factors). ValueError naming `owner` otherwise;
    a regularizer whose factors are both 0 is None."""
    if spec is None:
        return None
    if isinstance(spec, str) and spec.lower() in NAMES:
        reg = NAMES[spec.lower()]() if spec.lower() != "l1_l2" else L1L2(0.01, 0.01)
    elif isinstance(spec, L1L2):
        reg = spec
    elif isinstance(spec, dict) and spec and set(spec) <= {"l1", "l2"}:
        try:
            reg = L1L2(**spec)
        except ValueError as e:
            raise ValueError(f"{owner}: kernel_regularizer: {e}") from None
    else:
        raise ValueError(f"{owner}: kernel_regularizer must be None, regularizers.L2(...)/L1(...)/L1L2(...), "
                         f"{{'l1': ..., 'l2': ...}} or one of {', '.join(map(repr, NAMES))}; got {spec!r:.80}")
    return reg if (reg.l1 or reg.l2) else None
