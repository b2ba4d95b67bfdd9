"""2-D convolution (cross-correlation, as in every deep learning library), NHWC input, HWIO kernel.

cs231n style: `conv2d_forward` returns (out, cache) and `conv2d_backward` uses the cache.
The work is matrix products over an im2col matrix: one row (or column) per output pixel holding the
h*w*k input values under the filter, so all k' filters (and their k' biases) are applied at once.
Without BLAS (under Pyodide) some convolutions go through 2-D Fourier transforms instead, where the same
result takes far fewer multiply-adds (the "fft" layout, see conv2d_forward).
"""
import math

import numpy as np

from . import _scratch as scratch, arithmetic
from . import backend
from .backend import matmul


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
    if (sh == kh or ho == 1) and (sw == kw or wo == 1) and (hp, wp) == (ho * kh, wo * kw):
        # windows tile the input exactly (e.g. LeNet's C5: one 5x5 window, whatever the stride): no overlaps,
        # just reorder (a view when there is one window per image)
        return d.transpose(0, 1, 3, 2, 4, 5).reshape(xp_shape)
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


def fft_size(n):
    """The transform length for a padded side n: the next power of two (pocketfft's fastest sizes)."""
    return 1 << (n - 1).bit_length()


def _fft_pays(out_hw, padded_hw, kernel_shape):
    """Whether the "fft" layout does less work than a direct one, in multiply-add equivalents per image (forward
    and both gradients): directly 3*C*F*Ho*Wo*kh*kw; through transforms 3 complex products (4 multiply-adds each)
    per frequency and channel pair, plus 2*(C+F) transforms of about 3.2*S*log2(S) each (S = Sh*Sw points;
    measured under Pyodide, where a 16x16 real transform takes 2 us). This picks the faster layout for every
    case timed there, e.g. LeNet's C3 (fft: 4.1 ms instead of 7.7 ms at batch 32), C1 and C5 (direct)."""
    kh, kw, c, f = kernel_shape
    sh, sw = fft_size(padded_hw[0]), fft_size(padded_hw[1])
    direct = 3 * c * f * out_hw[0] * out_hw[1] * kh * kw
    points = sh * sw
    transforms = 12 * c * f * sh * (sw // 2 + 1) + 2 * (c + f) * 3.2 * points * math.log2(points)
    return transforms < direct


def _layout(stride, out_hw, padded_hw, kernel_shape):
    """Which layout of the same convolution is fastest here (see conv2d_forward)."""
    wo, wp = out_hw[1], padded_hw[1]
    if stride == (1, 1) and backend.WASM and _fft_pays(out_hw, padded_hw, kernel_shape):
        # Without BLAS (Pyodide) a product runs at a scalar ~6.6 GFLOP/s: doing fewer multiply-adds wins
        return "fft"
    if stride != (1, 1) or wo < 0.6 * wp:
        return "rows"
    if backend.WASM and wo < 0.9 * wp:
        # Without BLAS (Pyodide) the product itself is the cost: the shift path's Wp-wide rows (40% extra for
        # LeNet's C3, 14% for C1) cost more than the exact copies save (measured: C3 +10%, C1 +1.5% of a
        # training step); with BLAS the cheaper copies win.
        return "exact"
    return "shift"


def _channel_major(x, pads_h, pads_w, extra):
    """x (N, H, W, C) zero-padded and laid out channel-major as (C, N, Hp*Wp + extra) in core._scratch, `extra`
    zeros at the end of each image."""
    n, h, w, c = x.shape
    hp, wp = h + sum(pads_h), w + sum(pads_w)
    flat = scratch.take((c, n, hp * wp + extra), x.dtype)
    flat.fill(0)
    flat[:, :, :hp * wp].reshape(c, n, hp, wp)[:, :, pads_h[0]:pads_h[0] + h, pads_w[0]:pads_w[0] + w] = \
        x.transpose(3, 0, 1, 2)
    return flat


def conv2d_forward(x, kernel, bias=None, stride=1, padding="valid", name="conv2d", relu=False):
    """Convolve x (N, H, W, C) with kernel (h, w, C, F), add bias (F,); relu=True then applies max(., 0).

    Returns out (N, Ho, Wo, F) and a cache for `conv2d_backward` (which gives the gradients of the convolution
    alone: the caller applies relu's gradient first).
    relu here rather than after: it runs over the product's own contiguous memory, before the view that drops
    the "shift" path's extra columns (2x faster than over that view under Pyodide).

    Four layouts of the same convolution, chosen for speed (the maths is identical, the rounding not quite):
    - "rows": im2col of NHWC windows, one row per output pixel (any stride).
    - "shift" (stride 1): the input is laid out channel-major (C, N, Hp*Wp) and flattened, so the window
      offset (i, j) is a plain shift by i*Wp + j: im2col becomes kh*kw contiguous slice copies and its adjoint
      kh*kw contiguous slice-adds. Each image row is computed Wp wide; the last kw-1 columns are thrown away.
      The output is then an NHWC view of channel-major memory, which NumPy's element-wise ops handle as is.
    - "exact" (stride 1, no BLAS): the input laid out (C, Hp, Wp, N), the batch innermost; the im2col copies
      take only the Wo kept columns (runs of Wo*N numbers), so the products do no wasted work. The output is an
      NHWC view of (F, Ho, Wo, N) memory.
    - "fft" (stride 1, no BLAS, where it does less work: see _fft_pays): through 2-D Fourier transforms, where
      the products shrink to one (F, C) @ (C, N) per frequency (see _fft_forward). The output is an NHWC view
      of (Ho, Wo, F, N) memory, the batch innermost as in the "exact" layout.
    """
    stride, pads_h, pads_w = check_conv_input(x, kernel, stride, padding, name)
    kh, kw, c, f = kernel.shape
    n, h, w, _ = x.shape
    hp, wp = h + sum(pads_h), w + sum(pads_w)
    ho, wo = (hp - kh) // stride[0] + 1, (wp - kw) // stride[1] + 1
    k2 = kernel.reshape(kh * kw * c, f)
    layout = _layout(stride, (ho, wo), (hp, wp), kernel.shape)
    cache = {"kernel": kernel, "xp_shape": (n, hp, wp, c), "x_shape": x.shape, "stride": stride,
             "pads": (pads_h, pads_w), "has_bias": bias is not None, "layout": layout}
    if layout == "rows":
        cols = im2col(pad_input(x, pads_h, pads_w), (kh, kw), stride)
        out = matmul(cols, k2)
        _add_bias_relu(out, bias, relu, channels_first=False)
        cache.update(cols=cols)
        return out.reshape(n, ho, wo, f), cache
    if layout == "exact":
        return _exact_forward(x, k2, bias, relu, cache, (ho, wo))
    if layout == "fft":
        return _fft_forward(x, kernel, bias, relu, cache, (ho, wo))
    flat = _channel_major(x, pads_h, pads_w, extra=kw - 1)   # + kw - 1: the last window's spill-over
    length = ho * wp                                     # output positions per image, rows computed wp wide
    cols = scratch.take((kh, kw, c, n, length), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[i, j] = flat[:, :, i * wp + j:i * wp + j + length]
    scratch.give(flat)
    out_t = matmul(k2.T, cols.reshape(kh * kw * c, -1))     # (F, N*Ho*Wp)
    _add_bias_relu(out_t, bias, relu, channels_first=True)
    out = out_t.reshape(f, n, ho, wp)[:, :, :, :wo].transpose(1, 2, 3, 0)
    cache.update(cols=cols)
    return out, cache


def _add_bias_relu(out, bias, relu, channels_first):
    """In place on the product's own memory: + bias (per filter, the first or the last axis), then relu."""
    if bias is not None:
        out += bias[:, None] if channels_first else bias
    if relu:
        np.maximum(out, 0, out=out)


def _kernel_bias_grads(cols, d2, cache):
    """dkernel and dbias from channel-first im2col columns and output gradients d2 (F, positions); the columns
    go back to core._scratch (they are used for nothing else)."""
    kernel = cache["kernel"]
    dkernel = matmul(cols.reshape(-1, d2.shape[1]), d2.T).reshape(kernel.shape)
    dbias = matmul(d2, np.ones(d2.shape[1], d2.dtype)) if cache["has_bias"] else None   # a gemv beats sum(axis=1)
    scratch.give(cols)
    return dkernel, dbias


def _batch_inner(x, pads_h, pads_w):
    """x (N, H, W, C) zero-padded and laid out (C, Hp, Wp, N), the batch innermost: a view when x already lies so
    in memory (the output of an "exact" convolution and of the pooling after it), else a core._scratch copy.
    Returns (xb, owned): owned is True when xb came from core._scratch."""
    n, h, w, c = x.shape
    xb = x.transpose(3, 1, 2, 0)
    if pads_h == (0, 0) and pads_w == (0, 0) and xb.flags.c_contiguous:
        return xb, False
    buf = scratch.take((c, h + sum(pads_h), w + sum(pads_w), n), x.dtype)
    if pads_h != (0, 0) or pads_w != (0, 0):
        buf.fill(0)
    buf[:, pads_h[0]:pads_h[0] + h, pads_w[0]:pads_w[0] + w, :] = xb
    return buf, True


def _exact_forward(x, k2, bias, relu, cache, out_hw):
    """The "exact" layout (see conv2d_forward): everything (C, H, W, N), the batch innermost, so each of the
    kh*kw im2col copies moves runs of Wo*N contiguous numbers and the products see no wasted column."""
    kh, kw, c, f = cache["kernel"].shape
    n = x.shape[0]
    ho, wo = out_hw
    xb, owned = _batch_inner(x, *cache["pads"])
    cols = scratch.take((kh, kw, c, ho, wo, n), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[i, j] = xb[:, i:i + ho, j:j + wo, :]
    if owned:
        scratch.give(xb)
    out_t = matmul(k2.T, cols.reshape(kh * kw * c, -1))     # (F, Ho*Wo*N)
    _add_bias_relu(out_t, bias, relu, channels_first=True)
    cache.update(cols=cols)
    return out_t.reshape(f, ho, wo, n).transpose(3, 1, 2, 0), cache


def _exact_backward(dout, cols, cache, need_dx):
    """Gradients for the "exact" layout: products over (C, H, W, N) data, the input gradient by kh*kw slice-adds
    of runs Wo*N long."""
    kernel, (n, hp, wp, _), x_shape = cache["kernel"], cache["xp_shape"], cache["x_shape"]
    (pads_h, pads_w), (kh, kw, c, f) = cache["pads"], kernel.shape
    ho, wo = dout.shape[1], dout.shape[2]
    k2 = kernel.reshape(kh * kw * c, f)
    d, owned = _batch_inner(dout, (0, 0), (0, 0))           # (F, Ho, Wo, N)
    d2 = d.reshape(f, -1)
    dkernel, dbias = _kernel_bias_grads(cols, d2, cache)
    dx = None
    if need_dx:
        dcols = scratch.take((kh, kw, c, ho, wo, n), dout.dtype)
        matmul(k2, d2, out=dcols.reshape(kh * kw * c, -1))
        dxb = np.zeros((c, hp, wp, n), dout.dtype)
        for i in range(kh):
            for j in range(kw):
                dxb[:, i:i + ho, j:j + wo, :] += dcols[i, j]
        scratch.give(dcols)
        dx = dxb[:, pads_h[0]:pads_h[0] + x_shape[1], pads_w[0]:pads_w[0] + x_shape[2], :].transpose(3, 1, 2, 0)
    if owned:
        scratch.give(d)
    return dx, dkernel, dbias


def _fft_forward(x, kernel, bias, relu, cache, out_hw):
    """The "fft" layout (see conv2d_forward): correlation is a product per frequency. With X, K the 2-D real
    transforms of the padded input and of the kernel (zero-filled to the same Sh x Sw), the output's transform
    at each frequency is the matrix product conj(K)^T X, (F, C) @ (C, N); the inverse transform gives a
    circular correlation whose first Ho x Wo values are the convolution (no index there wraps around, since
    Sh >= Hp). Images lie (H, W, C, N), the batch innermost as in the "exact" layout (so the pooling layers
    around it run over long contiguous runs), spectra (Sh, Sw//2+1, C, N), the kernel's (Sh, Sw//2+1, C, F):
    every step is a transform over the two leading axes or a batched matmul over them."""
    pads_h, pads_w = cache["pads"]
    size = fft_size(x.shape[1] + sum(pads_h)), fft_size(x.shape[2] + sum(pads_w))
    xb = x.transpose(1, 2, 3, 0)                              # (H, W, C, N)
    if pads_h[0] or pads_w[0]:                                # leading zeros must be real; the transform pads the end
        xb = np.pad(xb, ((pads_h[0], 0), (pads_w[0], 0), (0, 0), (0, 0)))
    spectrum = np.fft.rfftn(xb, s=size, axes=(0, 1))         # (Sh, Sw2, C, N)
    kernel_spectrum = np.fft.rfftn(kernel, s=size, axes=(0, 1))    # (Sh, Sw2, C, F)
    out_spectrum = np.matmul(kernel_spectrum.conj().swapaxes(2, 3), spectrum)     # (Sh, Sw2, F, N)
    if bias is not None:
        out_spectrum[0, 0] += bias[:, None] * (size[0] * size[1])   # a constant is all frequency (0, 0)
    out_t = _inverse(out_spectrum, size, out_hw)             # (Ho, Wo, F, N)
    if relu:
        np.maximum(out_t, 0, out=out_t)
    # the input's spectrum stands where the other layouts keep their im2col columns (one backward pass uses it)
    cache.update(cols=spectrum, kernel_spectrum=kernel_spectrum, fft_size=size)
    return out_t.transpose(3, 0, 1, 2), cache


def _inverse(spectrum, size, keep):
    """The real inverse transform over the two leading axes of `spectrum`, only its first keep[0] x keep[1]
    values: the rows past keep[0] are dropped between the two 1-D passes (less work for the second)."""
    rows = np.fft.ifft(spectrum, axis=0)[:keep[0]]
    return np.fft.irfft(rows, n=size[1], axis=1)[:, :keep[1]]


def _fft_backward(dout, spectrum, cache, need_dx):
    """Gradients for the "fft" layout, each one product per frequency with D, the output gradient's transform:
    dkernel is the correlation of the input with dout (X conj(D)^T, summed over the batch), dx the full
    convolution of dout with the kernel (K D; its Hp x Wp values fit in Sh x Sw without wrapping), and dbias
    the sum of dout, which is D at frequency (0, 0)."""
    (pads_h, pads_w), (kh, kw) = cache["pads"], cache["kernel"].shape[:2]
    x_shape, size = cache["x_shape"], cache["fft_size"]
    d = np.fft.rfftn(dout.transpose(1, 2, 3, 0), s=size, axes=(0, 1))       # (Sh, Sw2, F, N)
    dkernel = _inverse(np.matmul(spectrum, d.conj().swapaxes(2, 3)), size, (kh, kw))   # (kh, kw, C, F)
    dbias = d[0, 0].real.sum(axis=1) if cache["has_bias"] else None
    dx = None
    if need_dx:
        keep = pads_h[0] + x_shape[1], pads_w[0] + x_shape[2]
        dxp = _inverse(np.matmul(cache["kernel_spectrum"], d), size, keep)   # (Hp', Wp', C, N)
        dx = dxp[pads_h[0]:, pads_w[0]:].transpose(3, 0, 1, 2)
    return dx, dkernel, dbias


def _shift_col2im(dcols, cache):
    """The input gradient (N, H, W, C) from dcols (kh, kw, C, N, Ho*Wp): the gradient of the "shift" im2col
    matrix (zeros in the thrown-away columns), added back with kh*kw contiguous slice-adds (its adjoint)."""
    kernel, (n, hp, wp, _), x_shape = cache["kernel"], cache["xp_shape"], cache["x_shape"]
    (pads_h, pads_w), (kh, kw, c, _) = cache["pads"], kernel.shape
    h, w = x_shape[1], x_shape[2]
    length = dcols.shape[-1]
    flat = np.zeros((c, n, hp * wp + kw - 1), dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            flat[:, :, i * wp + j:i * wp + j + length] += dcols[i, j]
    dx = flat[:, :, :hp * wp].reshape(c, n, hp, wp)[:, :, pads_h[0]:pads_h[0] + h, pads_w[0]:pads_w[0] + w]
    return dx.transpose(1, 2, 3, 0)


def _wide_grad(d, wp):
    """The output gradient channel-major, d (F, N, Ho, Wo) (any memory order) -> (F, N, Ho, Wp) from core._scratch,
    zeros in the columns past Wo."""
    f, n, ho, wo = d.shape
    d_t = scratch.take((f, n, ho, wp), d.dtype)
    d_t[:, :, :, wo:] = 0                              # the thrown-away columns get zero gradient
    d_t[:, :, :, :wo] = d
    return d_t


def conv2d_backward(dout, cache, need_dx=True):
    """Gradients of conv2d_forward: dout (N, Ho, Wo, F) -> dx (N, H, W, C) or None, dkernel (h, w, C, F), dbias (F,) or None.

    need_dx=False skips the input gradient (the first layer never needs it). A cache serves one backward pass:
    its buffers go back to core._scratch for the next forward pass.
    """
    cols = cache.pop("cols", None)
    if cols is None:
        raise ValueError("conv2d_backward: this cache was already used by a backward pass; run the forward pass again")
    kernel, (n, _, wp, _), x_shape, stride = cache["kernel"], cache["xp_shape"], cache["x_shape"], cache["stride"]
    pads_h, pads_w = cache["pads"]
    kh, kw, c, f = kernel.shape
    h, w = x_shape[1], x_shape[2]
    k2 = kernel.reshape(kh * kw * c, f)
    if cache["layout"] == "rows":
        d2 = dout.reshape(-1, f)
        dkernel = matmul(cols.T, d2).reshape(kernel.shape)
        dbias = matmul(np.ones(len(d2), d2.dtype), d2) if cache["has_bias"] else None   # a gemv beats sum(axis=0)
        if not need_dx:
            return None, dkernel, dbias
        dxp = col2im(matmul(d2, k2.T), cache["xp_shape"], (kh, kw), stride)
        return dxp[:, pads_h[0]:pads_h[0] + h, pads_w[0]:pads_w[0] + w, :], dkernel, dbias
    if cache["layout"] == "exact":
        return _exact_backward(dout, cols, cache, need_dx)
    if cache["layout"] == "fft":
        return _fft_backward(dout, cols, cache, need_dx)
    d = _wide_grad(dout.transpose(3, 0, 1, 2), wp)
    d2 = d.reshape(f, -1)
    dkernel, dbias = _kernel_bias_grads(cols, d2, cache)
    dx = None
    if need_dx:
        dcols = scratch.take((kh, kw, c, n, dout.shape[1] * wp), dout.dtype)
        matmul(k2, d2, out=dcols.reshape(kh * kw * c, -1))
        dx = _shift_col2im(dcols, cache)
        scratch.give(dcols)
    scratch.give(d)
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
