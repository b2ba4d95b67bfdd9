"""Max and average pooling, NHWC, cs231n style: *_forward -> (out, cache), *_backward(dout, cache) -> dx.

Pooling has no weights. Max pooling routes each gradient to the input pixel that won its window;
average pooling spreads it evenly over the window. "same" padding pads with -inf for max (a pad never
wins) and leaves pads out of the average (Keras/TensorFlow behaviour).
"""
import numpy as np

from . import arithmetic
from . import backend
from .conv import windows, col2im


def pool_settings(pool_size, strides, padding, name):
    """Checked settings (pool, stride, padding): pairs of positive ints (strides default to the pool size) and
    "valid" or "same". MaxPooling2D and AveragePooling2D check theirs here too."""
    pool = arithmetic.pair(pool_size, "pool_size", name)
    stride = arithmetic.pair(pool if strides is None else strides, "strides", name)
    padding = arithmetic.check_padding(padding, name)
    if not isinstance(padding, str):
        raise ValueError(f"{name}: pooling padding must be 'valid' or 'same', got {padding!r}")
    return pool, stride, padding


def check_pool_input(x, pool_size, strides, padding, name):
    """Validate; returns (pool, stride, pads_h, pads_w)."""
    shape = np.shape(x)
    if len(shape) != 4:
        raise ValueError(f"{name}: expects a 4-D input (N, H, W, C), got shape {tuple(shape)}")
    pool, stride, padding = pool_settings(pool_size, strides, padding, name)
    pads_h, pads_w = arithmetic.window_pads(shape[1:3], pool, stride, padding, name, "pool")
    return pool, stride, pads_h, pads_w


def tiled(input_hw, pool, stride, pads):
    """True when the windows are the tiles of the input (H, W): no padding, stride == pool, sizes divide (the
    usual 2x2, stride 2). Then pooling walks ph*pw strided views x[i::ph, j::pw] (here and in core/jax/ops.py)."""
    return pool == stride and pads == ((0, 0), (0, 0)) and arithmetic.tiles(input_hw, pool, stride)


def _running_max(views):
    """Element-wise max over equally shaped views, and which view won (the first on ties): for two views a bool
    mask "the second won", for more an int8 index."""
    best = views[0]
    winner = None
    for k in range(1, len(views)):
        better = views[k] > best
        # the same values either way: the later view where it is larger, else the running best
        best = np.where(better, views[k], best) if backend.WASM else np.maximum(best, views[k])
        if len(views) == 2:
            winner = better
        else:
            winner = better.astype(np.int8) if winner is None else np.where(better, np.int8(k), winner)
    return best, winner


def max_pool_forward(x, pool_size=2, strides=None, padding="valid", name="max_pooling2d"):
    """x (N, H, W, C) -> out (N, Ho, Wo, C), cache."""
    pool, stride, pads_h, pads_w = check_pool_input(x, pool_size, strides, padding, name)
    if tiled(x.shape[1:3], pool, stride, (pads_h, pads_w)):
        # Two passes, rows then columns, each a running maximum over strided views. The work happens on the
        # channel-major view (C, N, H, W), so the row pass compares whole contiguous rows when x comes from a
        # convolution's "shift" path; the result is returned as an NHWC view again.
        ph, pw = pool
        xt = x.transpose(3, 0, 1, 2)
        rows, row_winner = _running_max([xt[:, :, i::ph, :] for i in range(ph)])
        out_t, col_winner = _running_max([rows[:, :, :, j::pw] for j in range(pw)])
        return out_t.transpose(1, 2, 3, 0), ("tiles", x.shape, x.dtype, pool, row_winner, col_winner)
    xp = np.pad(x, ((0, 0), pads_h, pads_w, (0, 0)), constant_values=-np.inf) if pads_h + pads_w != (0,) * 4 else x
    win = windows(xp, pool, stride)            # (N, Ho, Wo, ph, pw, C)
    n, ho, wo, ph, pw, c = win.shape
    flat = win.reshape(n, ho, wo, ph * pw, c)  # copies: windows may overlap
    arg = flat.argmax(axis=3)
    out = np.take_along_axis(flat, arg[:, :, :, None, :], axis=3)[:, :, :, 0, :]
    return out, ("windows", arg, xp.shape, x.shape, pool, stride, pads_h, pads_w)


def _empty_ordered_like(shape, dtype, like):
    """An empty array of this shape whose memory order (which axis varies fastest) is that of `like` (same axes,
    maybe other sizes): a gradient then lies in memory as its forward input did, so the element-wise steps around
    it run over long contiguous runs (e.g. a convolution's batch-innermost "exact" layout)."""
    if like is None:
        return np.empty(shape, dtype)
    order = sorted(range(len(shape)), key=lambda a: -like.strides[a])       # slowest axis first
    inverse = [order.index(a) for a in range(len(shape))]
    return np.empty([shape[a] for a in order], dtype).transpose(inverse)


def _route(d, winner, p, axis, shape, dtype, like=None):
    """Send each gradient in d to the winner among p strided positions along `axis` (zeros elsewhere).
    The result has the memory order of `like` (see _empty_ordered_like)."""
    out = _empty_ordered_like(shape, dtype, like)
    views = [out[:, :, k::p, :] if axis == 2 else out[:, :, :, k::p] for k in range(p)]
    if winner is None:                     # average pooling: everyone gets the (already divided) share
        for view in views:
            view[...] = d
    elif winner.dtype == bool:             # two positions: the second gets d where it won, the first the rest
        if backend.WASM:       # Pyodide: np.where is 3x faster than a multiply by a bool mask there
            views[1][...] = won = np.where(winner, d, 0)
        else:                              # CPython: the multiply is a SIMD loop, np.where the slow one
            won = np.multiply(d, winner, out=views[1])
        np.subtract(d, won, out=views[0])
    else:
        for k, view in enumerate(views):
            if backend.WASM:
                view[...] = np.where(winner == k, d, 0)
            else:
                np.multiply(d, winner == k, out=view)
    return out


def max_pool_backward(dout, cache):
    """dout (N, Ho, Wo, C) -> dx (N, H, W, C): each gradient goes to its window's maximum."""
    if cache[0] == "tiles":
        _, (n, h, w, c), dtype, (ph, pw), row_winner, col_winner = cache
        dout_t = dout.transpose(3, 0, 1, 2)
        # row_winner lies in memory as x did (a ufunc's output follows its inputs): the gradients follow it
        drows = _route(dout_t, col_winner, pw, axis=3, shape=(c, n, h // ph, w), dtype=dtype, like=row_winner)
        dx_t = _route(drows, row_winner, ph, axis=2, shape=(c, n, h, w), dtype=dtype, like=row_winner)
        return dx_t.transpose(1, 2, 3, 0)
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
    if tiled(x.shape[1:3], pool, stride, (pads_h, pads_w)):
        ph, pw = pool
        xt = x.transpose(3, 0, 1, 2)
        rows = sum(xt[:, :, i::ph, :] for i in range(ph))
        out_t = sum(rows[:, :, :, j::pw] for j in range(pw)) * (1.0 / (ph * pw))
        return out_t.transpose(1, 2, 3, 0), ("tiles", x.shape, x.dtype, pool)
    xp = np.pad(x, ((0, 0), pads_h, pads_w, (0, 0)))
    ones = np.pad(np.ones((1,) + x.shape[1:3] + (1,), x.dtype), ((0, 0), pads_h, pads_w, (0, 0)))
    counts = windows(ones, pool, stride).sum(axis=(3, 4))    # (1, Ho, Wo, 1): real pixels per window
    out = windows(xp, pool, stride).sum(axis=(3, 4)) / counts
    return out, ("windows", counts, xp.shape, x.shape, pool, stride, pads_h, pads_w)


def avg_pool_backward(dout, cache):
    """dout (N, Ho, Wo, C) -> dx (N, H, W, C): each gradient spread evenly over its window."""
    if cache[0] == "tiles":
        _, (n, h, w, c), dtype, (ph, pw) = cache
        share = dout.transpose(3, 0, 1, 2) * (1.0 / (ph * pw))
        drows = _route(share, None, pw, axis=3, shape=(c, n, h // ph, w), dtype=dtype)
        return _route(drows, None, ph, axis=2, shape=(c, n, h, w), dtype=dtype).transpose(1, 2, 3, 0)
    _, counts, xp_shape, x_shape, pool, stride, pads_h, pads_w = cache
    share = dout / counts
    n, ho, wo, c = dout.shape
    dcols = np.broadcast_to(share[:, :, :, None, None, :], (n, ho, wo, pool[0], pool[1], c))
    dxp = col2im(np.ascontiguousarray(dcols), xp_shape, pool, stride)
    return dxp[:, pads_h[0]:pads_h[0] + x_shape[1], pads_w[0]:pads_w[0] + x_shape[2], :]
