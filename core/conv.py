"""2-D convolution as in the lecture (a cross-correlation, like every deep learning library's), NHWC input, HWIO
kernel, cs231n style: `conv2d_forward` returns (out, cache) and `conv2d_backward` uses the cache.

Read top to bottom: pad the input, view every kh x kw window, copy the windows into the im2col matrix (one row per
output pixel holding the kh*kw*C input values under the filter), and one matrix product applies all F filters
(and their F biases) at every pixel. The backward pass is the same product turned round, and col2im adds each
row's window gradient back where the window came from.

The transposed convolution (a decoder's learned upsampling) is that backward pass used as a forward pass: its
input plays the convolution's output gradient, so its forward is one product and col2im, and its backward is
im2col and two products (conv2d_transpose_forward / conv2d_transpose_backward).

For speed, conv2d_forward may hand the same convolution to a faster memory layout in conv_fast.py, chosen there
by a cost model for each shape and platform; this file's layout is called "rows" there. The import runs one way,
conv -> conv_fast (conv_fast needs nothing from here), so everything that convolves calls this file.
"""
import numpy as np

from . import arithmetic, conv_fast
from .backend import matmul


def pad_input(x, pads_h, pads_w):
    """Zero-pad the two spatial axes of x (N, H, W, C) -> (N, Hp, Wp, C); x itself when there is nothing to add."""
    if pads_h == (0, 0) and pads_w == (0, 0):
        return x
    return np.pad(x, ((0, 0), pads_h, pads_w, (0, 0)))


def windows(xp, kernel_size, stride):
    """A read-only view (N, Ho, Wo, kh, kw, C) of every kh x kw window of xp (N, Hp, Wp, C), no copy."""
    n, hp, wp, c = xp.shape
    (kh, kw), (sh, sw) = kernel_size, stride
    ho, wo = arithmetic.output_hw((hp, wp), kernel_size, stride)
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
    """Adjoint of im2col: add each row's window gradient, dcols (N*Ho*Wo, kh*kw*C), back onto the padded input
    (N, Hp, Wp, C). One vectorised slice-add per kernel offset (kh*kw of them), never a loop over pixels."""
    n, hp, wp, c = xp_shape
    (kh, kw), (sh, sw) = kernel_size, stride
    ho, wo = arithmetic.output_hw((hp, wp), kernel_size, stride)
    d = dcols.reshape(n, ho, wo, kh, kw, c)
    if arithmetic.tiles((hp, wp), kernel_size, stride):
        # no overlaps (e.g. LeNet's C5: one 5x5 window): just reorder (a view when there is one window per image)
        return d.transpose(0, 1, 3, 2, 4, 5).reshape(xp_shape)
    dxp = np.zeros(xp_shape, dtype=dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, i:i + sh * (ho - 1) + 1:sh, j:j + sw * (wo - 1) + 1:sw, :] += d[:, :, :, i, j, :]
    return dxp


def check_conv_input(x, kernel, stride, padding, name="conv2d"):
    """Validate shapes and settings; raise ValueError naming the layer and the shapes. Returns (sh, sw), the pads
    (top, bottom) and (left, right)."""
    x_shape, k_shape = np.shape(x), np.shape(kernel)
    if len(x_shape) != 4:
        raise ValueError(f"{name}: expects a 4-D input (N, H, W, C), got shape {tuple(x_shape)}")
    if len(k_shape) != 4:
        raise ValueError(f"{name}: kernel must be 4-D (h, w, in_channels, filters), got shape {tuple(k_shape)}")
    if k_shape[2] != x_shape[3]:
        raise ValueError(f"{name}: kernel {tuple(k_shape)} expects {k_shape[2]} input channels, "
                         f"got input of shape {tuple(x_shape)} with {x_shape[3]}")
    stride = arithmetic.pair(stride, "strides", name)
    padding = arithmetic.check_padding(padding, name)
    pads_h, pads_w = arithmetic.window_pads(x_shape[1:3], k_shape[:2], stride, padding, name, "kernel")
    return stride, pads_h, pads_w


def conv2d_forward(x, kernel, bias=None, stride=1, padding="valid", name="conv2d", relu=False, layout=None):
    """Convolve x (N, H, W, C) with kernel (kh, kw, C, F), add bias (F,) or None; relu=True then applies max(., 0).

    Returns out (N, Ho, Wo, F) and a cache for conv2d_backward, which differentiates the convolution alone (the
    caller applies relu's gradient first). layout: None lets conv_fast's cost model pick; "rows" (this one) or a
    layout of conv_fast.LAYOUTS forces it (the tests and benchmarks compare them).
    """
    stride, pads_h, pads_w = check_conv_input(x, kernel, stride, padding, name)
    n, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    xp_shape = (n, h + sum(pads_h), w + sum(pads_w), c)
    out_hw = arithmetic.output_hw(xp_shape[1:3], (kh, kw), stride)
    layout = conv_fast.choose_layout(layout, stride, out_hw, xp_shape[1:3], kernel.shape, n, name)
    cache = {"kernel": kernel, "x_shape": x.shape, "xp_shape": xp_shape, "out_hw": out_hw, "stride": stride,
             "pads": (pads_h, pads_w), "has_bias": bias is not None, "layout": layout}
    if layout != "rows":
        return conv_fast.LAYOUTS[layout][0](x, kernel, bias, relu, cache)
    cols = im2col(pad_input(x, pads_h, pads_w), (kh, kw), stride)    # (N*Ho*Wo, kh*kw*C)
    out = matmul(cols, kernel.reshape(kh * kw * c, f))              # (N*Ho*Wo, F): every filter at every pixel
    if bias is not None:
        out += bias
    if relu:
        np.maximum(out, 0, out=out)            # in place, over the product's own memory
    cache.update(cols=cols)
    return out.reshape(n, *out_hw, f), cache


def conv2d_backward(dout, cache, need_dx=True):
    """Gradients of conv2d_forward: dout (N, Ho, Wo, F) -> dx (N, H, W, C) or None, dkernel (kh, kw, C, F),
    dbias (F,) or None.

    need_dx=False skips the input gradient (the first layer never needs it). A cache serves one backward pass
    (the fast layouts' buffers then go back to core._scratch for the next forward pass).
    """
    cols = cache.pop("cols", None)
    if cols is None:
        raise ValueError("conv2d_backward: this cache was already used by a backward pass; run the forward pass again")
    if cache["layout"] != "rows":
        return conv_fast.LAYOUTS[cache["layout"]][1](dout, cols, cache, need_dx)
    kernel, (pads_h, pads_w), (h, w) = cache["kernel"], cache["pads"], cache["x_shape"][1:3]
    kh, kw, c, f = kernel.shape
    d2 = dout.reshape(-1, f)                                         # (N*Ho*Wo, F)
    dkernel = matmul(cols.T, d2).reshape(kernel.shape)               # every window times its pixel's gradient
    dbias = matmul(np.ones(len(d2), d2.dtype), d2) if cache["has_bias"] else None   # a gemv beats sum(axis=0)
    if not need_dx:
        return None, dkernel, dbias
    dcols = matmul(d2, kernel.reshape(kh * kw * c, f).T)            # (N*Ho*Wo, kh*kw*C): each window's gradient
    dxp = col2im(dcols, cache["xp_shape"], (kh, kw), cache["stride"])
    return dxp[:, pads_h[0]:pads_h[0] + h, pads_w[0]:pads_w[0] + w, :], dkernel, dbias


def conv2d_transpose_forward(x, kernel, bias=None, stride=1, padding="valid", name="conv2d_transpose"):
    """Transposed convolution of x (N, H, W, C) with kernel (kh, kw, F, C) (Keras' layout: the HWIO kernel of the
    convolution it transposes, F in, C out), plus bias (F,) or None -> out (N, Ho, Wo, F), cache.

    Each input pixel adds its C values times the kernel onto a kh x kw patch of the output, the patches `stride`
    apart: the input gradient of that convolution, with x as its output gradient. Ho = H*s + max(kh - s, 0)
    ("valid") or H*s ("same"), as Keras (arithmetic.transposed_output_hw); "same" crops the convolution's pads.
    """
    x_shape, k_shape = np.shape(x), np.shape(kernel)
    if len(x_shape) != 4:
        raise ValueError(f"{name}: expects a 4-D input (N, H, W, C), got shape {tuple(x_shape)}")
    if len(k_shape) != 4 or k_shape[3] != x_shape[3]:
        raise ValueError(f"{name}: kernel must be (h, w, filters, {x_shape[3]}) for input of shape {tuple(x_shape)}, "
                         f"got shape {tuple(k_shape)}")
    stride = arithmetic.pair(stride, "strides", name)
    if padding not in ("valid", "same"):
        raise ValueError(f"{name}: padding must be 'valid' or 'same', got {padding!r}")
    n, h, w, c = x.shape
    kh, kw, f, _ = kernel.shape
    ho, wo = arithmetic.transposed_output_hw((h, w), (kh, kw), stride, padding)
    pads_h = arithmetic.pad_amounts(ho, kh, stride[0], padding)     # the pads of the convolution it transposes
    pads_w = arithmetic.pad_amounts(wo, kw, stride[1], padding)
    outp_shape = (n, ho + sum(pads_h), wo + sum(pads_w), f)
    cols = matmul(x.reshape(-1, c), kernel.reshape(kh * kw * f, c).T)      # (N*H*W, kh*kw*F): each pixel's patch
    outp = col2im(cols, outp_shape, (kh, kw), stride)
    out = outp[:, pads_h[0]:pads_h[0] + ho, pads_w[0]:pads_w[0] + wo, :]
    out = out + bias if bias is not None else np.ascontiguousarray(out)
    cache = {"x": x, "kernel": kernel, "stride": stride, "pads": (pads_h, pads_w), "has_bias": bias is not None}
    return out, cache


def conv2d_transpose_backward(dout, cache, need_dx=True):
    """Gradients of conv2d_transpose_forward: dout (N, Ho, Wo, F) -> dx (N, H, W, C) or None, dkernel
    (kh, kw, F, C), dbias (F,) or None. dx is the convolution of dout by the kernel (im2col and one product),
    dkernel the windows of dout times the input pixels that painted them."""
    x, kernel, (pads_h, pads_w) = cache["x"], cache["kernel"], cache["pads"]
    kh, kw, f, c = kernel.shape
    cols = im2col(pad_input(dout, pads_h, pads_w), (kh, kw), cache["stride"])   # (N*H*W, kh*kw*F)
    dkernel = matmul(cols.T, x.reshape(-1, c)).reshape(kernel.shape)
    dbias = dout.sum(axis=(0, 1, 2)) if cache["has_bias"] else None
    dx = matmul(cols, kernel.reshape(kh * kw * f, c)).reshape(x.shape) if need_dx else None
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
    if bias is not None:
        bias = np.broadcast_to(np.asarray(bias, dtype), kernel.shape[3:])   # a scalar bias is fine for one filter
    out, _ = conv2d_forward(x.astype(dtype, copy=False), kernel.astype(dtype, copy=False), bias, stride, padding)
    return out[0, :, :, 0] if single else out
