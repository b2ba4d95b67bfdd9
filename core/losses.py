"""Losses on the model's output, each with its gradient: name -> value_and_grad(logits, y) -> (loss, dlogits).

Written with array operators and the array's own namespace (NumPy or jax.numpy), so the JAX mirror
runs the very same functions. Labels y are ints (N,) or one-hot (N, K).

- "mse": mean over all elements of (output - one_hot(y))^2 (Keras).
- "categorical_crossentropy": mean over the batch of -log softmax(logits)[y]; softmax fused, so logits of 1e4 are fine.
- "focal": mean over the batch of -alpha_t * (1 - p_t)^gamma * log p_t (Lin et al. 2017); gamma=0, alpha=None is
  cross-entropy. alpha is None (no weighting), one number, or one weight per class.
"""
import numpy as np

NAMES = ("mse", "categorical_crossentropy", "focal")


def _xp(a):
    """The array namespace of `a`: numpy for NumPy arrays, jax.numpy for JAX arrays (and tracers)."""
    return a.__array_namespace__() if hasattr(a, "__array_namespace__") and not isinstance(a, np.ndarray) else np


def one_hot(y, k, dtype, xp=np):
    """Int labels (N,) -> (N, k); one-hot labels pass through. Out-of-range labels raise ValueError (NumPy only)."""
    if getattr(y, "ndim", 1) == 2:
        if y.shape[1] != k:
            raise ValueError(f"one-hot labels have {y.shape[1]} classes, the output has {k}")
        return y.astype(dtype)
    if xp is np:
        y = np.asarray(y)
        if y.ndim != 1:
            raise ValueError(f"labels must be ints of shape (N,) or one-hot (N, {k}), got shape {y.shape}")
        if y.size and (y.min() < 0 or y.max() >= k):
            raise ValueError(f"labels must be in [0, {k}), got values from {y.min()} to {y.max()}")
    return (y[:, None] == xp.arange(k)[None, :]).astype(dtype)


def _check_batch(logits, y):
    if logits.ndim != 2:
        raise ValueError(f"loss expects outputs of shape (N, classes), got {tuple(logits.shape)}")
    if y.shape[0] != logits.shape[0]:
        raise ValueError(f"loss: {y.shape[0]} labels for {logits.shape[0]} outputs")


def log_softmax(z, xp=np):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def mse(logits, y):
    xp = _xp(logits)
    _check_batch(logits, y)
    diff = logits - one_hot(y, logits.shape[1], logits.dtype, xp)
    n = diff.size
    return (diff * diff).sum() / n, diff * (2.0 / n)


def categorical_crossentropy(logits, y):
    xp = _xp(logits)
    _check_batch(logits, y)
    t = one_hot(y, logits.shape[1], logits.dtype, xp)
    logp = log_softmax(logits, xp)
    n = logits.shape[0]
    return -(t * logp).sum() / n, (xp.exp(logp) - t) / n


def focal(logits, y, gamma=2.0, alpha=None):
    xp = _xp(logits)
    _check_batch(logits, y)
    if gamma < 0:
        raise ValueError(f"focal loss: gamma must be >= 0, got {gamma}")
    k = logits.shape[1]
    t = one_hot(y, k, logits.dtype, xp)
    logp = log_softmax(logits, xp)
    p = xp.exp(logp)
    logp_t = (t * logp).sum(axis=-1, keepdims=True)
    p_t = xp.exp(logp_t)
    if alpha is None:
        a_t = 1.0
    elif np.ndim(alpha) == 0:
        a_t = alpha
    else:
        if len(alpha) != k:
            raise ValueError(f"focal loss: alpha has {len(alpha)} class weights, the output has {k} classes")
        a_t = (t * xp.asarray(alpha, dtype=logits.dtype)).sum(axis=-1, keepdims=True)
    q = xp.maximum(1 - p_t, 1e-30)         # 1 - p_t, kept off 0 so (1-p_t)^(gamma-1) stays finite
    w = q ** gamma
    n = logits.shape[0]
    loss = -(a_t * w * logp_t).sum() / n
    # d/dz_j of -a (1-p_t)^g log p_t = -a (t_j - p_j) [(1-p_t)^g - g p_t (1-p_t)^(g-1) log p_t]
    factor = w - gamma * p_t * (w / q) * logp_t
    grad = a_t * factor * (p - t) / n
    return loss, grad


def get(loss, **kwargs):
    """A loss by name ("mse", "categorical_crossentropy", "focal" with gamma/alpha) or a callable -> value_and_grad fn."""
    if callable(loss):
        return loss
    if loss == "mse":
        return mse
    if loss in ("categorical_crossentropy", "crossentropy", "cross_entropy"):
        return categorical_crossentropy
    if loss == "focal":
        gamma, alpha = kwargs.get("gamma", 2.0), kwargs.get("alpha", None)
        return lambda logits, y: focal(logits, y, gamma=gamma, alpha=alpha)
    raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(NAMES)}")
