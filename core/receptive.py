"""Receptive fields: which input pixels made one output pixel, and the dot product that combined them.

For a 2-D input x (H, W), a window (h, w), a stride and a padding ("valid", "same" or an int, as in
core.conv), output pixel (i, j) looks at input rows top..top+h-1 and columns left..left+w-1, where
top = i*stride - pad_top. Rows or columns outside 0..H-1 are the zero padding (0 덧대기).
The playground draws these windows and shows the numbers; conv and pooling share them.
"""
import numpy as np

from . import arithmetic


def window(i, j, window_size, stride, padding, input_hw, name="window"):
    """Input rectangle seen by output pixel (i, j): dict(top, left, bottom, right), bottom/right exclusive.

    The rectangle may reach into the padding (negative or >= H/W). Raises ValueError naming `name`
    if (i, j) is not an output pixel for this input shape (H, W).
    """
    h, w = input_hw
    kh, kw = arithmetic.pair(window_size, "window size", name)
    sh, sw = arithmetic.pair(stride, "strides", name)
    padding = arithmetic.check_padding(padding, name)
    ho, wo = arithmetic.output_hw((h, w), (kh, kw), (sh, sw), padding)
    if not (0 <= i < ho and 0 <= j < wo):
        raise ValueError(f"{name}: output pixel ({i}, {j}) is outside the output {ho}x{wo} "
                         f"(input {h}x{w}, window {kh}x{kw}, stride {sh}x{sw}, padding={padding!r})")
    top = i * sh - arithmetic.pad_amounts(h, kh, sh, padding)[0]
    left = j * sw - arithmetic.pad_amounts(w, kw, sw, padding)[0]
    return {"top": top, "left": left, "bottom": top + kh, "right": left + kw}


def input_rect(rect, window_size, stride, padding, input_hw, name="input_rect"):
    """The input rectangle that a whole rectangle of output pixels sees: the union of their windows.

    Chaining it through layers gives a deep pixel's receptive field on the photo (it grows with depth):
    a 2x2 max-pool window over a 3x3 conv's outputs sees 4x4 input pixels.
    """
    first = window(rect["top"], rect["left"], window_size, stride, padding, input_hw, name)
    last = window(rect["bottom"] - 1, rect["right"] - 1, window_size, stride, padding, input_hw, name)
    return {"top": first["top"], "left": first["left"], "bottom": last["bottom"], "right": last["right"]}


def patch(x, rect, fill=0.0, border="zeros"):
    """The values of x (H, W) under rect (from `window`) as an (h, w) array.

    Pixels outside x get `fill` (border="zeros", zero padding) or the mirror image of the border
    (border="mirror": d c b a | a b c d, numpy's "symmetric", as core.filters' Sobel uses).
    """
    x = np.asarray(x)
    h, w = x.shape
    if border == "mirror":
        rows = mirror_index(np.arange(rect["top"], rect["bottom"]), h)
        cols = mirror_index(np.arange(rect["left"], rect["right"]), w)
        return x[rows[:, None], cols[None, :]]
    if border != "zeros":
        raise ValueError(f"patch: border must be 'zeros' or 'mirror', got {border!r}")
    out = np.full((rect["bottom"] - rect["top"], rect["right"] - rect["left"]), fill, dtype=x.dtype)
    r0, r1 = max(rect["top"], 0), min(rect["bottom"], h)
    c0, c1 = max(rect["left"], 0), min(rect["right"], w)
    if r0 < r1 and c0 < c1:
        out[r0 - rect["top"]:r1 - rect["top"], c0 - rect["left"]:c1 - rect["left"]] = x[r0:r1, c0:c1]
    return out


def mirror_index(idx, n):
    """Indices reflected into 0..n-1 the way np.pad(mode="symmetric") does (-1 -> 0, n -> n-1)."""
    period = 2 * n
    idx = np.mod(idx, period)
    return np.where(idx < n, idx, period - 1 - idx)


def stacked_size(*sizes):
    """Receptive field of windows applied one after another at stride 1: 1 + sum(k - 1) (two 3x3 see 5x5)."""
    return 1 + sum(int(k) - 1 for k in sizes)


def dot_product(x, kernel, i, j, stride=1, padding="valid", bias=0.0, border="zeros"):
    """How conv2d(x, kernel, bias, stride, padding)[i, j] was made, step by step.

    x (H, W), kernel (h, w). Returns dict: rect (see `window`), patch (h, w) input values (zeros in
    the padding), padded (h, w) bool, True where the window lies in the padding, kernel (h, w),
    products (h, w) = patch * kernel, total = products.sum(), bias, output = total + bias.
    border="mirror" fills the padding with the mirrored image instead of zeros (see `patch`).
    """
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    if x.ndim != 2 or kernel.ndim != 2:
        raise ValueError(f"dot_product: expects a 2-D input and a 2-D kernel, got {x.shape} and {kernel.shape}")
    rect = window(i, j, kernel.shape, stride, padding, x.shape, name="dot_product")
    values = patch(x, rect, border=border)
    dtype = np.result_type(x.dtype, kernel.dtype, np.float32)
    products = values.astype(dtype) * kernel.astype(dtype)
    total = products.sum(dtype=dtype)
    rows = np.arange(rect["top"], rect["bottom"])[:, None]
    cols = np.arange(rect["left"], rect["right"])[None, :]
    padded = (rows < 0) | (rows >= x.shape[0]) | (cols < 0) | (cols >= x.shape[1])
    return {"rect": rect, "patch": values, "padded": padded, "border": border, "kernel": kernel, "products": products,
            "total": total, "bias": dtype.type(bias), "output": total + dtype.type(bias)}


def pool_window(x, i, j, pool_size, stride, kind="max"):
    """How a valid-padded max/average pool produced output pixel (i, j) of x (H, W).

    Returns dict: rect, patch (ph, pw), output (max or mean of the patch), winner (row, col) of the
    maximum in x (the first one on ties, as core.pooling.max_pool_argmax), or None for "avg".
    """
    x = np.asarray(x)
    if kind not in ("max", "avg"):
        raise ValueError(f"pool_window: kind must be 'max' or 'avg', got {kind!r}")
    rect = window(i, j, pool_size, stride, "valid", x.shape, name="pool_window")
    values = patch(x, rect)
    if kind == "avg":
        return {"rect": rect, "patch": values, "output": values.mean(), "winner": None}
    r, c = np.unravel_index(int(values.argmax()), values.shape)
    return {"rect": rect, "patch": values, "output": values[r, c],
            "winner": (rect["top"] + int(r), rect["left"] + int(c))}


def winner_mask(shape, rows, cols):
    """Boolean (H, W) map of the input pixels that won at least one max-pooling window.

    rows, cols: the (Ho, Wo) winner coordinates, e.g. core.pooling.max_pool_argmax(...)[k][0, :, :, 0].
    """
    mask = np.zeros(shape, dtype=bool)
    mask[np.asarray(rows).ravel(), np.asarray(cols).ravel()] = True
    return mask
