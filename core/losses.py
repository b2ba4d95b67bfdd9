"""Losses on the model's output, each with its gradient: name -> value_and_grad(outputs, y) -> (loss, doutputs).

Written with array operators and the array's own namespace (NumPy or jax.numpy), so the JAX mirror runs the very
same functions under jit. How the labels are read is decided by SHAPES alone (static under jit); their values are
checked only for NumPy labels (a JAX tracer has no values to check).

- "mse": mean over all elements of (output - target)^2 (Keras), for outputs of any shape (N, ...).
- "categorical_crossentropy": mean over the batch, and over the pixels of per-pixel logits (N, H, W, K), of
  -log softmax(logits)[true class]; softmax fused, so logits of 1e4 are fine.
- "focal": the same mean of -alpha_t * (1 - p_t)^gamma * log p_t (Lin et al. 2017); gamma=0, alpha=None is
  cross-entropy. alpha is None (no weighting), one number, or one weight per class.
- "binary_crossentropy": on logits (Keras' from_logits=True), any shape, targets of 0/1 (or probabilities) of the
  same shape; mean over all elements of softplus(z) - t*z, stable for logits of +-1e4.

Class labels for outputs (N, ..., K) are ints of shape (N, ...) (a class id per example or per pixel), or one-hot
(N, ..., K) (rows of probabilities summing to 1 are accepted too).
"""
import numpy as np

from . import activations

NAMES = ("mse", "categorical_crossentropy", "focal", "binary_crossentropy")


def _xp(a):
    """The array namespace of `a`: numpy for NumPy arrays, jax.numpy for JAX arrays (and tracers)."""
    return a.__array_namespace__() if hasattr(a, "__array_namespace__") and not isinstance(a, np.ndarray) else np


def _as_array(y):
    """Lists and numbers become NumPy arrays; NumPy and JAX arrays pass through."""
    return y if hasattr(y, "shape") and hasattr(y, "ndim") else np.asarray(y)


def _shapes(y, out):
    return f"labels of shape {tuple(y.shape)}, outputs of shape {tuple(out.shape)}"


def _check_numbers(name, y):
    if y.dtype.kind not in "biuf":
        raise ValueError(f"{name}: labels must be numbers, got dtype {y.dtype}")


def _first_bad(y, bad):
    """'value at index (i, j, ...)' of the first True in the mask `bad`, for error messages."""
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    return f"{y[idx].item()} at index {idx}"


def one_hot(y, k, dtype, xp=np, name="loss"):
    """Int labels (N, ...) -> one-hot (N, ..., k) of dtype. NumPy labels are checked (ValueError naming `name`):
    whole numbers (0.5 or 1.7 is refused, not truncated) in [0, k)."""
    if isinstance(y, np.ndarray):
        _check_numbers(name, y)
        if y.dtype.kind == "f" and y.size:
            bad = ~(y == np.round(y))                  # NaN is bad too
            if bad.any():
                raise ValueError(f"{name}: labels must be whole class ids in [0, {k}), got {_first_bad(y, bad)}")
        if y.size and (y.min() < 0 or y.max() >= k):
            lo, hi = y.min().item(), y.max().item()
            raise ValueError(f"{name}: labels must be in [0, {k}), got values from {lo:g} to {hi:g}")
    return (y[..., None] == xp.arange(k)).astype(dtype)


def _check_one_hot(name, t):
    """NumPy one-hot labels: numbers in [0, 1] whose rows (last axis) sum to 1. The gradient p - t of both class
    losses assumes that sum; an all-zero row (no class) would give a loss of -0 and teach nothing."""
    _check_numbers(name, t)
    if not t.size:
        return
    bad = ~((t >= 0) & (t <= 1))
    if bad.any():
        raise ValueError(f"{name}: one-hot labels must be in [0, 1], got {_first_bad(t, bad)}")
    sums = t.sum(axis=-1)
    zero = sums == 0
    if zero.any():
        idx = tuple(int(i) for i in np.argwhere(zero)[0])
        raise ValueError(f"{name}: one-hot labels of shape {t.shape} have an all-zero row at index {idx}: "
                         f"each row needs a 1 for its class")
    off = np.abs(sums - 1) > 1e-4
    if off.any():
        raise ValueError(f"{name}: one-hot label rows must sum to 1, got a row summing to {_first_bad(sums, off)}")


def _class_targets(name, logits, y, xp):
    """Labels for logits (N, ..., K) -> one-hot targets of logits' shape and dtype. Told apart by shape:
    (N, ...) -> int class ids, (N, ..., K) -> one-hot."""
    y = _as_array(y)
    if logits.ndim < 2:
        raise ValueError(f"{name}: outputs must be (N, classes) or (N, ..., classes), got shape "
                         f"{tuple(logits.shape)}")
    if y.ndim == 0 or y.shape[0] != logits.shape[0]:
        n = y.shape[0] if y.ndim else "scalar"
        raise ValueError(f"{name}: {n} labels for {logits.shape[0]} outputs ({_shapes(y, logits)})")
    k = logits.shape[-1]
    if y.ndim == logits.ndim and y.shape[:-1] == logits.shape[:-1]:
        if y.shape[-1] != k:
            raise ValueError(f"{name}: one-hot labels have {y.shape[-1]} classes, the output has {k} "
                             f"({_shapes(y, logits)})")
        if isinstance(y, np.ndarray):
            _check_one_hot(name, y)
        return y.astype(logits.dtype)
    if y.shape != logits.shape[:-1]:
        raise ValueError(f"{name}: {_shapes(y, logits)} do not fit: give int labels of shape "
                         f"{tuple(logits.shape[:-1])} or one-hot of shape {tuple(logits.shape)}")
    return one_hot(y, k, logits.dtype, xp, name)


def log_softmax(z, xp=np):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def mse(outputs, y):
    """Mean over all elements of (outputs - target)^2 -> (loss, doutputs of outputs' shape).

    outputs (N, ...) of any shape. The target kind is told by its shape: y of outputs' shape is the target itself
    (a regression target such as the input image of an autoencoder, or one-hot rows), used as is; y of shape
    outputs.shape[:-1] is int class ids (labels (N,) for (N, K), a mask (N, H, W) for (N, H, W, K)), one-hot
    encoded over the last axis. Any other shape is refused."""
    xp = _xp(outputs)
    y = _as_array(y)
    if y.shape == outputs.shape:
        target = y.astype(outputs.dtype)
    elif outputs.ndim >= 2 and y.ndim == outputs.ndim and y.shape[:-1] == outputs.shape[:-1]:
        raise ValueError(f"mse: one-hot labels have {y.shape[-1]} classes, the output has {outputs.shape[-1]} "
                         f"({_shapes(y, outputs)}); a regression target needs the outputs' shape")
    elif outputs.ndim >= 2 and y.ndim == outputs.ndim - 1:
        target = _class_targets("mse", outputs, y, xp)
    else:
        if y.ndim and y.shape[0] != outputs.shape[0]:
            raise ValueError(f"mse: {y.shape[0]} labels for {outputs.shape[0]} outputs ({_shapes(y, outputs)})")
        raise ValueError(f"mse: {_shapes(y, outputs)} do not fit: give a target of the outputs' shape"
                         + (f", or int labels of shape {tuple(outputs.shape[:-1])}" if outputs.ndim >= 2 else ""))
    diff = outputs - target
    n = diff.size
    return (diff * diff).sum() / n, diff * (2.0 / n)


def categorical_crossentropy(logits, y):
    """Mean over the batch and pixels of -log softmax(logits)[true class] -> (loss, dlogits of logits' shape).

    logits (N, K) with labels (N,) or one-hot (N, K); per-pixel logits (N, H, W, K) with masks (N, H, W) or
    one-hot (N, H, W, K) (any (N, ..., K) works the same way)."""
    xp = _xp(logits)
    t = _class_targets("categorical_crossentropy", logits, y, xp)
    logp = log_softmax(logits, xp)
    n = logits.size // logits.shape[-1]             # examples x pixels: the positions averaged over
    return -(t * logp).sum() / n, (xp.exp(logp) - t) / n


def focal(logits, y, gamma=2.0, alpha=None):
    """Focal loss, mean over the batch and pixels -> (loss, dlogits). Shapes as categorical_crossentropy."""
    xp = _xp(logits)
    if gamma < 0:
        raise ValueError(f"focal: gamma must be >= 0, got {gamma}")
    t = _class_targets("focal", logits, y, xp)
    k = logits.shape[-1]
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
            raise ValueError(f"focal: alpha has {len(alpha)} class weights, the output has {k} classes")
        a_t = (t * xp.asarray(alpha, dtype=logits.dtype)).sum(axis=-1, keepdims=True)
    q = xp.maximum(1 - p_t, 1e-30)         # 1 - p_t, kept off 0 so (1-p_t)^(gamma-1) stays finite
    w = q ** gamma
    n = logits.size // k
    loss = -(a_t * w * logp_t).sum() / n
    # d/dz_j of -a (1-p_t)^g log p_t = -a (t_j - p_j) [(1-p_t)^g - g p_t (1-p_t)^(g-1) log p_t]
    factor = w - gamma * p_t * (w / q) * logp_t
    grad = a_t * factor * (p - t) / n
    return loss, grad


def binary_crossentropy(logits, y):
    """Mean over all elements of -[t log sigmoid(z) + (1-t) log(1 - sigmoid(z))] -> (loss, dlogits).

    logits z of any shape (N, ...), before the sigmoid; targets t of 0/1 (or probabilities in [0, 1]) of the same
    shape; a mask (N, H, W) is accepted for logits (N, H, W, 1). Written as softplus(z) - t*z with
    softplus(z) = max(z, 0) + log(1 + exp(-|z|)): no exp of a large positive number, so logits of +-1e4 are fine."""
    xp = _xp(logits)
    t = _as_array(y)
    if t.shape != logits.shape:
        if logits.ndim >= 2 and logits.shape[-1] == 1 and t.shape == logits.shape[:-1]:
            t = t.reshape(logits.shape)
        elif t.ndim and logits.ndim and t.shape[0] != logits.shape[0]:
            raise ValueError(f"binary_crossentropy: {t.shape[0]} labels for {logits.shape[0]} outputs "
                             f"({_shapes(t, logits)})")
        else:
            raise ValueError(f"binary_crossentropy: targets need the outputs' shape, got {_shapes(t, logits)}")
    if isinstance(t, np.ndarray):
        _check_numbers("binary_crossentropy", t)
        bad = ~((t >= 0) & (t <= 1))
        if t.size and bad.any():
            raise ValueError(f"binary_crossentropy: targets must be 0/1 or probabilities in [0, 1], got "
                             f"{_first_bad(t, bad)}")
    t = t.astype(logits.dtype)
    e = xp.exp(-xp.abs(logits))                 # in (0, 1]: never overflows
    n = logits.size
    loss = (xp.maximum(logits, 0) - logits * t + xp.log1p(e)).sum() / n
    sigmoid = xp.where(logits >= 0, 1 / (1 + e), e / (1 + e))
    return loss, (sigmoid - t) / n


def get(loss, **kwargs):
    """A loss by name ("mse", "categorical_crossentropy", "focal" with gamma/alpha, "binary_crossentropy") or a
    callable -> value_and_grad fn."""
    if callable(loss):
        return loss
    if loss == "mse":
        return mse
    if loss in ("categorical_crossentropy", "crossentropy", "cross_entropy"):
        return categorical_crossentropy
    if loss == "focal":
        gamma, alpha = kwargs.get("gamma", 2.0), kwargs.get("alpha", None)
        return lambda logits, y: focal(logits, y, gamma=gamma, alpha=alpha)
    if loss == "binary_crossentropy":
        return binary_crossentropy
    raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(NAMES)}")


def curve(name, p_true, classes=10, **kwargs):
    """The loss lab's plot: loss and its gradient against the true class's softmax probability.

    For each p in p_true (M,) in (0, 1): logits (1, classes) whose softmax gives the true class (class 0) p and
    every other class (1 - p) / (classes - 1); the core loss `name` (with kwargs, e.g. focal's gamma and alpha) is
    called on them. "mse" is the lecture's MSE on softmax: core mse on the probabilities softmax(logits) against
    the one-hot target (mean over the classes), its gradient taken back through core activations' softmax.
    Returns {"p_true": (M,), "loss": (M,), "dlogit_true": (M,) d loss / d logit of the true class}."""
    fn = get(name, **kwargs) if isinstance(name, str) else None
    if fn is None or fn is binary_crossentropy:
        raise ValueError(f"loss curve: choose one of mse, categorical_crossentropy, focal, got {name!r}")
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"loss curve: classes must be an int >= 2, got {classes!r}")
    p = np.asarray(p_true, dtype=np.float64)
    if p.ndim > 1 or not np.all((p > 0) & (p < 1)):       # NaN fails this too
        raise ValueError(f"loss curve: p_true must be probabilities in (0, 1) of shape (M,), got {p_true!r}")
    p = p.reshape(-1)
    y = np.zeros(1, dtype=np.int64)
    loss, grad = np.empty(len(p)), np.empty(len(p))
    for i, pi in enumerate(p):
        z = np.full((1, classes), np.log((1 - pi) / (classes - 1)))
        z[0, 0] = np.log(pi)
        if fn is mse:
            probs = activations.softmax(z)
            value, dprobs = mse(probs, y)
            dz = activations.backward("softmax", dprobs, probs)
        else:
            value, dz = fn(z, y)
        loss[i], grad[i] = value, dz[0, 0]       # a batch of one: the mean is the example's own loss
    return {"p_true": p, "loss": loss, "dlogit_true": grad}
