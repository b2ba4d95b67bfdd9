"""2-D convolution (cross-correlation, as in every deep learning library), NHWC input, HWIO kernel.

cs231n style: `conv2d_forward` returns (out, cache) and `conv2d_backward` uses the cache.
The work is two matrix products over an im2col matrix: one row per output pixel holding the
h*w*k input values under the filter, so all k' filters (and their k' biases) are applied at once.
"""
import numpy as np

from . import arithmetic


def pad_input(x, pads_h, pads_w):
    """Zero-pad the two spatial axes of x (N, H, W, C); returns x itself when there is nothing to add."""
    if pads_h == (0, 0) and pads_w == (0, 0):
        return x
    return np.pad(x, ((0, 0), pads_h, pads_w, (0, 0)))


def windows(xp, kernel_size, stride):
    """A read-only view (N, Ho, Wo, kh, kw, C) of every kh x kw window of xp (N, Hp, Wp, C), no copy."""
    n, hp, wp, c = xp.shape
    kh, kw = kernel_size
    sh, sw = stride
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    s = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (n, ho, wo, kh, kw, c), (s[0], s[1] * sh, s[2] * sw, s[1], s[2], s[3]), writeable=False)


def im2col(xp, kernel_size, stride):
    """(N, Hp, Wp, C) -> (N*Ho*Wo, kh*kw*C): one row per output pixel, ordered like a flattened HWIO kernel."""
    win = windows(xp, kernel_size, stride)
    n, ho, wo, kh, kw, c = win.shape
    cols = np.empty((n, ho, wo, kh, kw, c), dtype=xp.dtype)
    np.copyto(cols, win)
    return cols.reshape(n * ho * wo, kh * kw * c)


def col2im(dcols, xp_shape, kernel_size, stride):
    """Adjoint of im2col: add each row's window gradient back onto the padded input (N, Hp, Wp, C).

    One vectorised slice-add per kernel offset (kh*kw of them), never a loop over pixels.
    """
    n, hp, wp, c = xp_shape
    kh, kw = kernel_size
    sh, sw = stride
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    d = dcols.reshape(n, ho, wo, kh, kw, c)
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :] += d[:, :, :, i, j, :]
    return dxp


def check_conv_input(x, kernel, stride, padding, name="conv2d"):
    """Validate shapes and settings; raise ValueError naming the layer and the shapes. Returns the pads."""
    x_shape, k_shape = np.shape(x), np.shape(kernel)
    if len(x_shape) != 4:
        raise ValueError(f"{name}: expects a 4-D input (N, H, W, C), got shape {tuple(x_shape)}")
    if len(k_shape) != 4:
        raise ValueError(f"{name}: kernel must be 4-D (h, w, in_channels, filters), got shape {tuple(k_shape)}")
    _, h, w, c = x_shape
    kh, kw, kc, _ = k_shape
    if kc != c:
        raise ValueError(f"{name}: kernel {tuple(k_shape)} expects {kc} input channels, "
                         f"got input of shape {tuple(x_shape)} with {c}")
    sh, sw = arithmetic.pair(stride, "strides", name)
    padding = arithmetic.check_padding(padding, name)
    pads_h = arithmetic.pad_amounts(h, kh, sh, padding)
    pads_w = arithmetic.pad_amounts(w, kw, sw, padding)
    if h + sum(pads_h) < kh or w + sum(pads_w) < kw:
        raise ValueError(f"{name}: kernel {kh}x{kw} is larger than the input {h}x{w} "
                         f"(padding={padding!r}); use padding='same' or a smaller kernel")
    return (sh, sw), pads_h, pads_w


def conv2d_forward(x, kernel, bias=None, stride=1, padding="valid", name="conv2d"):
    """Convolve x (N, H, W, C) with kernel (h, w, C, F), add bias (F,).

    Returns out (N, Ho, Wo, F) and a cache for `conv2d_backward`.
    """
    stride, pads_h, pads_w = check_conv_input(x, kernel, stride, padding, name)
    kh, kw, c, f = kernel.shape
    xp = pad_input(x, pads_h, pads_w)
    cols = im2col(xp, (kh, kw), stride)
    out = cols @ kernel.reshape(kh * kw * c, f)
    if bias is not None:
        out += bias
    n = x.shape[0]
    ho, wo = (xp.shape[1] - kh) // stride[0] + 1, (xp.shape[2] - kw) // stride[1] + 1
    cache = (cols, kernel, xp.shape, x.shape, stride, pads_h, pads_w, bias is not None)
    return out.reshape(n, ho, wo, f), cache


def conv2d_backward(dout, cache, need_dx=True):
    """Gradients of conv2d_forward: dout (N, Ho, Wo, F) -> dx (N, H, W, C) or None, dkernel (h, w, C, F), dbias (F,) or None.

    need_dx=False skips the input gradient (the first layer never needs it).
    """
    cols, kernel, xp_shape, x_shape, stride, pads_h, pads_w, has_bias = cache
    kh, kw, c, f = kernel.shape
    d2 = dout.reshape(-1, f)
    dkernel = (cols.T @ d2).reshape(kernel.shape)
    dbias = d2.sum(axis=0) if has_bias else None
    dx = None
    if need_dx:
        dcols = d2 @ kernel.reshape(kh * kw * c, f).T
        dxp = col2im(dcols, xp_shape, (kh, kw), stride)
        h, w = x_shape[1], x_shape[2]
        dx = dxp[:, pads_h[0]:pads_h[0] + h, pads_w[0]:pads_w[0] + w, :]
    return dx, dkernel, dbias


def conv2d(x, kernel, bias=None, stride=1, padding="valid"):
    """Forward only, for filters and the playground.

    x (H, W) with kernel (h, w) -> (Ho, Wo); or x (N, H, W, C) with kernel (h, w, C, F) -> (N, Ho, Wo, F).
    """
    x = np.asarray(x)
    kernel = np.asarray(kernel)
    single = x.ndim == 2 and kernel.ndim == 2
    if single:
        x, kernel = x[None, :, :, None], kernel[:, :, None, None]
    dtype = np.result_type(x.dtype, kernel.dtype, np.float32)
    out, _ = conv2d_forward(x.astype(dtype, copy=False), kernel.astype(dtype, copy=False),
                            None if bias is None else np.asarray(bias, dtype), stride, padding)
    return out[0, :, :, 0] if single else out
