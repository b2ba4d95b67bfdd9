"""Max and average pooling, NHWC, cs231n style: *_forward -> (out, cache), *_backward(dout, cache) -> dx.

Pooling has no weights. Max pooling routes each gradient to the input pixel that won its window;
average pooling spreads it evenly over the window. "same" padding pads with -inf for max (a pad never
wins) and leaves pads out of the average (Keras/TensorFlow behaviour).
"""
import numpy as np

from . import arithmetic
from .conv import windows, col2im


def check_pool_input(x, pool_size, strides, padding, name):
    """Validate; returns (pool, stride, pads_h, pads_w)."""
    shape = np.shape(x)
    if len(shape) != 4:
        raise ValueError(f"{name}: expects a 4-D input (N, H, W, C), got shape {tuple(shape)}")
    pool = arithmetic.pair(pool_size, "pool_size", name)
    stride = arithmetic.pair(pool if strides is None else strides, "strides", name)
    padding = arithmetic.check_padding(padding, name)
    if not isinstance(padding, str):
        raise ValueError(f"{name}: pooling padding must be 'valid' or 'same', got {padding!r}")
    h, w = shape[1], shape[2]
    pads_h = arithmetic.pad_amounts(h, pool[0], stride[0], padding)
    pads_w = arithmetic.pad_amounts(w, pool[1], stride[1], padding)
    if h + sum(pads_h) < pool[0] or w + sum(pads_w) < pool[1]:
        raise ValueError(f"{name}: pool {pool[0]}x{pool[1]} is larger than the input {h}x{w} "
                         f"(padding={padding!r})")
    return pool, stride, pads_h, pads_w


def _tiles(x, pool, stride, pads_h, pads_w):
    """Fast path: non-overlapping windows that tile x exactly, as a reshape view (N, Ho, ph, Wo, pw, C)."""
    n, h, w, c = x.shape
    if pool != stride or pads_h != (0, 0) or pads_w != (0, 0) or h % pool[0] or w % pool[1]:
        return None
    return x.reshape(n, h // pool[0], pool[0], w // pool[1], pool[1], c)


def max_pool_forward(x, pool_size=2, strides=None, padding="valid", name="max_pooling2d"):
    """x (N, H, W, C) -> out (N, Ho, Wo, C), cache."""
    pool, stride, pads_h, pads_w = check_pool_input(x, pool_size, strides, padding, name)
    t = _tiles(x, pool, stride, pads_h, pads_w)
    if t is not None:
        out = t.max(axis=(2, 4))
        return out, ("tiles", x, out, pool)
    xp = np.pad(x, ((0, 0), pads_h, pads_w, (0, 0)), constant_values=-np.inf) if pads_h + pads_w != (0,) * 4 else x
    win = windows(xp, pool, stride)            # (N, Ho, Wo, ph, pw, C)
    n, ho, wo, ph, pw, c = win.shape
    flat = win.reshape(n, ho, wo, ph * pw, c)  # copies: windows may overlap
    arg = flat.argmax(axis=3)
    out = np.take_along_axis(flat, arg[:, :, :, None, :], axis=3)[:, :, :, 0, :]
    return out, ("windows", arg, xp.shape, x.shape, pool, stride, pads_h, pads_w)


def max_pool_backward(dout, cache):
    """dout (N, Ho, Wo, C) -> dx (N, H, W, C): each gradient goes to its window's maximum."""
    if cache[0] == "tiles":
        _, x, out, pool = cache
        n, h, w, c = x.shape
        t = x.reshape(n, h // pool[0], pool[0], w // pool[1], pool[1], c)
        # Equality mask: ties only happen between exact equals (zeros after ReLU, whose gradient is 0 anyway);
        # the first maximum takes the gradient so the gradient is never doubled.
        mask = t == out[:, :, None, :, None, :]
        if mask.sum() != out.size:
            flat = t.transpose(0, 1, 3, 2, 4, 5).reshape(n, h // pool[0], w // pool[1], -1, c)
            first = flat.argmax(axis=3)
            mask = np.zeros_like(flat, dtype=bool)
            np.put_along_axis(mask, first[:, :, :, None, :], True, axis=3)
            mask = mask.reshape(n, h // pool[0], w // pool[1], pool[0], pool[1], c).transpose(0, 1, 3, 2, 4, 5)
        dx = mask * dout[:, :, None, :, None, :]
        return dx.reshape(x.shape)
    _, arg, xp_shape, x_shape, pool, stride, pads_h, pads_w = cache
    n, ho, wo, c = dout.shape
    dflat = np.zeros((n, ho, wo, pool[0] * pool[1], c), dtype=dout.dtype)
    np.put_along_axis(dflat, arg[:, :, :, None, :], dout[:, :, :, None, :], axis=3)
    dxp = col2im(dflat, xp_shape, pool, stride)
    return dxp[:, pads_h[0]:pads_h[0] + x_shape[1], pads_w[0]:pads_w[0] + x_shape[2], :]


def max_pool_argmax(x, pool_size=2, strides=None, padding="valid"):
    """For each output pixel, the (row, col) of the input pixel that won: two int arrays (N, Ho, Wo, C)."""
    pool, stride, pads_h, pads_w = check_pool_input(x, pool_size, strides, padding, "max_pooling2d")
    xp = np.pad(x, ((0, 0), pads_h, pads_w, (0, 0)), constant_values=-np.inf)
    win = windows(xp, pool, stride)
    n, ho, wo, ph, pw, c = win.shape
    arg = win.reshape(n, ho, wo, ph * pw, c).argmax(axis=3)
    rows = np.arange(ho)[None, :, None, None] * stride[0] + arg // pw - pads_h[0]
    cols = np.arange(wo)[None, None, :, None] * stride[1] + arg % pw - pads_w[0]
    return rows, cols


def avg_pool_forward(x, pool_size=2, strides=None, padding="valid", name="average_pooling2d"):
    """x (N, H, W, C) -> out (N, Ho, Wo, C), cache. Pads are not counted in the average."""
    pool, stride, pads_h, pads_w = check_pool_input(x, pool_size, strides, padding, name)
    t = _tiles(x, pool, stride, pads_h, pads_w)
    if t is not None:
        return t.mean(axis=(2, 4)), ("tiles", x.shape, pool)
    xp = np.pad(x, ((0, 0), pads_h, pads_w, (0, 0)))
    ones = np.pad(np.ones((1,) + x.shape[1:3] + (1,), x.dtype), ((0, 0), pads_h, pads_w, (0, 0)))
    counts = windows(ones, pool, stride).sum(axis=(3, 4))    # (1, Ho, Wo, 1): real pixels per window
    out = windows(xp, pool, stride).sum(axis=(3, 4)) / counts
    return out, ("windows", counts, xp.shape, x.shape, pool, stride, pads_h, pads_w)


def avg_pool_backward(dout, cache):
    """dout (N, Ho, Wo, C) -> dx (N, H, W, C): each gradient spread evenly over its window."""
    if cache[0] == "tiles":
        _, x_shape, pool = cache
        n, h, w, c = x_shape
        share = dout / (pool[0] * pool[1])
        dx = np.broadcast_to(share[:, :, None, :, None, :], (n, h // pool[0], pool[0], w // pool[1], pool[1], c))
        return dx.reshape(x_shape)
    _, counts, xp_shape, x_shape, pool, stride, pads_h, pads_w = cache
    share = dout / counts
    n, ho, wo, c = dout.shape
    dcols = np.broadcast_to(share[:, :, :, None, None, :], (n, ho, wo, pool[0], pool[1], c))
    dxp = col2im(np.ascontiguousarray(dcols), xp_shape, pool, stride)
    return dxp[:, pads_h[0]:pads_h[0] + x_shape[1], pads_w[0]:pads_w[0] + x_shape[2], :]
