"""Faster layouts of conv.py's convolution, and the cost model that picks one for each shape.

The maths is conv.py's (the rounding not quite); what changes is how the numbers lie in memory, so that the
im2col copies, the products and the element-wise steps around them run over long contiguous runs, or, without
BLAS, how many multiply-adds it takes. Each layout is a pair, like conv.py's lecture layout ("rows"):

    LAYOUTS = {layout: (forward, backward)}
    forward(x, kernel, bias, relu, cache) -> (out, cache)    x (N, H, W, C), kernel (kh, kw, C, F), bias (F,) or
                                                             None; out (N, Ho, Wo, F), an NHWC view of its memory
    backward(dout, cols, cache, need_dx) -> (dx, dkernel, dbias)    dout (N, Ho, Wo, F); cols: what forward cached

`cache` comes in holding the shapes and settings conv2d_forward checked (kernel, x_shape, xp_shape, out_hw, pads,
has_bias) and goes out with what the backward pass needs. Every layout here needs stride 1.

- "shift" (a few big images, e.g. the convolution lab's photo): the input laid out channel-major (C, N, Hp*Wp)
  and flattened, so the window offset (i, j) is a plain shift by i*Wp + j: im2col is kh*kw contiguous slice
  copies and col2im kh*kw contiguous slice-adds. Each output row is computed Wp wide; its last kw-1 columns are
  thrown away.
- "exact" (training batches on CPython; under Pyodide where "shift" would waste columns): the input laid out
  (C, Hp, Wp, N), the batch innermost; the copies take only the Wo kept columns (runs of Wo*N numbers), so the
  products do no wasted work.
- "fft" (Pyodide, where it does less work): through 2-D Fourier transforms, where the products shrink to one
  (F, C) @ (C, N) per frequency.

Who calls whom: conv.conv2d_forward asks `choose_layout` and runs LAYOUTS[layout] unless it says "rows", so every
caller (layers, filters, the playground) keeps calling conv.py and gets the fast layout (the playground's filters
too: through "rows" alone a 256x256 photo filtered 3-5x slower, on CPython and under Pyodide). The import runs one
way, conv -> conv_fast: the layouts here need none of conv.py's helpers (each does its own im2col as slice copies). Their big temporaries
come from core._scratch and go back there once the backward pass is done with them.
"""
import math

import numpy as np

from . import _scratch as scratch
from . import backend
from .backend import matmul


def _add_bias_relu(out_t, bias, relu):
    """In place on the product's own memory out_t (F, positions): + bias (F,) per filter, then relu. relu here
    rather than after: over the product's contiguous memory, before the view that drops the shift layout's extra
    columns (2x faster than over that view under Pyodide)."""
    if bias is not None:
        out_t += bias[:, None]
    if relu:
        np.maximum(out_t, 0, out=out_t)


def _kernel_bias_grads(cols, d2, cache):
    """dkernel (kh, kw, C, F) and dbias (F,) or None from channel-first im2col columns (kh*kw*C, positions) and
    output gradients d2 (F, positions); the columns go back to core._scratch (they are used for nothing else)."""
    kernel = cache["kernel"]
    dkernel = matmul(cols.reshape(-1, d2.shape[1]), d2.T).reshape(kernel.shape)
    dbias = matmul(d2, np.ones(d2.shape[1], d2.dtype)) if cache["has_bias"] else None   # a gemv beats sum(axis=1)
    scratch.give(cols)
    return dkernel, dbias


# -- "shift": channel-major and flattened, a window offset is a shift ----------------------------------------------

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


def shift_forward(x, kernel, bias, relu, cache):
    """The "shift" layout: cols (kh, kw, C, N, Ho*Wp), the product (F, N*Ho*Wp); the output is an NHWC view of
    channel-major memory, which NumPy's element-wise ops handle as is."""
    kh, kw, c, f = kernel.shape
    n, _, wp, _ = cache["xp_shape"]
    ho, wo = cache["out_hw"]
    flat = _channel_major(x, *cache["pads"], extra=kw - 1)    # + kw - 1: the last window's spill-over
    length = ho * wp                                          # output positions per image, rows computed wp wide
    cols = scratch.take((kh, kw, c, n, length), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[i, j] = flat[:, :, i * wp + j:i * wp + j + length]
    scratch.give(flat)
    out_t = matmul(kernel.reshape(kh * kw * c, f).T, cols.reshape(kh * kw * c, -1))     # (F, N*Ho*Wp)
    _add_bias_relu(out_t, bias, relu)
    cache.update(cols=cols)
    return out_t.reshape(f, n, ho, wp)[:, :, :, :wo].transpose(1, 2, 3, 0), cache


def shift_backward(dout, cols, cache, need_dx):
    """Gradients for the "shift" layout: the output gradient widened to Wp columns (zeros in the thrown-away ones),
    the same products turned round, the input gradient by kh*kw contiguous slice-adds."""
    kernel, (n, _, wp, _) = cache["kernel"], cache["xp_shape"]
    kh, kw, c, f = kernel.shape
    d = _wide_grad(dout.transpose(3, 0, 1, 2), wp)
    d2 = d.reshape(f, -1)
    dkernel, dbias = _kernel_bias_grads(cols, d2, cache)
    dx = None
    if need_dx:
        dcols = scratch.take((kh, kw, c, n, dout.shape[1] * wp), dout.dtype)
        matmul(kernel.reshape(kh * kw * c, f), d2, out=dcols.reshape(kh * kw * c, -1))
        dx = _shift_col2im(dcols, cache)
        scratch.give(dcols)
    scratch.give(d)
    return dx, dkernel, dbias


def _wide_grad(d, wp):
    """The output gradient channel-major, d (F, N, Ho, Wo) (any memory order) -> (F, N, Ho, Wp) from
    core._scratch, zeros in the columns past Wo."""
    f, n, ho, wo = d.shape
    d_t = scratch.take((f, n, ho, wp), d.dtype)
    d_t[:, :, :, wo:] = 0                              # the thrown-away columns get zero gradient
    d_t[:, :, :, :wo] = d
    return d_t


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


# -- "exact": the batch innermost, only the kept columns --------------------------------------------------------

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


def exact_forward(x, kernel, bias, relu, cache):
    """The "exact" layout: everything (C, H, W, N), so each of the kh*kw im2col copies moves runs of Wo*N
    contiguous numbers, cols (kh, kw, C, Ho, Wo, N), and the product (F, Ho*Wo*N) sees no wasted column. The
    output is an NHWC view of (F, Ho, Wo, N) memory."""
    kh, kw, c, f = kernel.shape
    n = x.shape[0]
    ho, wo = cache["out_hw"]
    xb, owned = _batch_inner(x, *cache["pads"])
    cols = scratch.take((kh, kw, c, ho, wo, n), x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[i, j] = xb[:, i:i + ho, j:j + wo, :]
    if owned:
        scratch.give(xb)
    out_t = matmul(kernel.reshape(kh * kw * c, f).T, cols.reshape(kh * kw * c, -1))     # (F, Ho*Wo*N)
    _add_bias_relu(out_t, bias, relu)
    cache.update(cols=cols)
    return out_t.reshape(f, ho, wo, n).transpose(3, 1, 2, 0), cache


def exact_backward(dout, cols, cache, need_dx):
    """Gradients for the "exact" layout: products over (C, H, W, N) data, the input gradient by kh*kw slice-adds
    of runs Wo*N long."""
    kernel, (n, hp, wp, _), x_shape = cache["kernel"], cache["xp_shape"], cache["x_shape"]
    (pads_h, pads_w), (kh, kw, c, f) = cache["pads"], kernel.shape
    ho, wo = dout.shape[1], dout.shape[2]
    d, owned = _batch_inner(dout, (0, 0), (0, 0))           # (F, Ho, Wo, N)
    d2 = d.reshape(f, -1)
    dkernel, dbias = _kernel_bias_grads(cols, d2, cache)
    dx = None
    if need_dx:
        dcols = scratch.take((kh, kw, c, ho, wo, n), dout.dtype)
        matmul(kernel.reshape(kh * kw * c, f), d2, out=dcols.reshape(kh * kw * c, -1))
        dxb = np.zeros((c, hp, wp, n), dout.dtype)
        for i in range(kh):
            for j in range(kw):
                dxb[:, i:i + ho, j:j + wo, :] += dcols[i, j]
        scratch.give(dcols)
        dx = dxb[:, pads_h[0]:pads_h[0] + x_shape[1], pads_w[0]:pads_w[0] + x_shape[2], :].transpose(3, 1, 2, 0)
    if owned:
        scratch.give(d)
    return dx, dkernel, dbias


# -- "fft": correlation is a product per frequency --------------------------------------------------------------

def fft_size(n):
    """The transform length for a padded side n: the next power of two (pocketfft's fastest sizes)."""
    return 1 << (n - 1).bit_length()


def fft_forward(x, kernel, bias, relu, cache):
    """The "fft" layout. With X, K the 2-D real transforms of the padded input and of the kernel (zero-filled to
    the same Sh x Sw), the output's transform at each frequency is the matrix product conj(K)^T X, (F, C) @ (C, N);
    the inverse transform gives a circular correlation whose first Ho x Wo values are the convolution (no index
    there wraps around, since Sh >= Hp). Images lie (H, W, C, N), the batch innermost as in the "exact" layout (so
    the pooling layers around it run over long contiguous runs), spectra (Sh, Sw//2+1, C, N), the kernel's
    (Sh, Sw//2+1, C, F): every step is a transform over the two leading axes or a batched matmul over them. The
    output is an NHWC view of (Ho, Wo, F, N) memory."""
    pads_h, pads_w = cache["pads"]
    size = fft_size(cache["xp_shape"][1]), fft_size(cache["xp_shape"][2])
    xb = x.transpose(1, 2, 3, 0)                              # (H, W, C, N)
    if pads_h[0] or pads_w[0]:                                # leading zeros must be real; the transform pads the end
        xb = np.pad(xb, ((pads_h[0], 0), (pads_w[0], 0), (0, 0), (0, 0)))
    spectrum = np.fft.rfftn(xb, s=size, axes=(0, 1))         # (Sh, Sw2, C, N)
    kernel_spectrum = np.fft.rfftn(kernel, s=size, axes=(0, 1))    # (Sh, Sw2, C, F)
    out_spectrum = np.matmul(kernel_spectrum.conj().swapaxes(2, 3), spectrum)     # (Sh, Sw2, F, N)
    if bias is not None:
        out_spectrum[0, 0] += bias[:, None] * (size[0] * size[1])   # a constant is all frequency (0, 0)
    out_t = _inverse(out_spectrum, size, cache["out_hw"])    # (Ho, Wo, F, N)
    if relu:
        np.maximum(out_t, 0, out=out_t)
    # the input's spectrum stands where the other layouts keep their im2col columns (one backward pass uses it)
    cache.update(cols=spectrum, kernel_spectrum=kernel_spectrum, fft_size=size)
    return out_t.transpose(3, 0, 1, 2), cache


def fft_backward(dout, spectrum, cache, need_dx):
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


def _inverse(spectrum, size, keep):
    """The real inverse transform over the two leading axes of `spectrum`, only its first keep[0] x keep[1]
    values: the rows past keep[0] are dropped between the two 1-D passes (less work for the second)."""
    rows = np.fft.ifft(spectrum, axis=0)[:keep[0]]
    return np.fft.irfft(rows, n=size[1], axis=1)[:, :keep[1]]


LAYOUTS = {"shift": (shift_forward, shift_backward),
           "exact": (exact_forward, exact_backward),
           "fft": (fft_forward, fft_backward)}


# -- the cost model ------------------------------------------------------------------------------------------------
# Measured under two runtimes: CPython with OpenBLAS (benchmarks/bench_lenet.py) and Pyodide 0.27.7 in Node
# (benchmarks/pyodide_profile.py convs, which times each LeNet-5 convolution through every layout and prints the
# pick). The thresholds sit between the shapes that were timed, not at a tuned optimum.

# The shift layout computes each output row Wp wide and keeps Wo of it; below SHIFT_MIN_KEPT the wasted product
# costs more than the rows layout's strided copies. Timed on CPython at batch 32 (5x5 kernels, forward + backward):
# rows faster at 20% kept (LeNet's C5, 1 of 5 columns: 6x) and 43%, shift faster from 56% (1.2x) up to LeNet's
# C3 (71%, 1.6x) and C1 (88%, 3x). 0.6 is a round number above that crossover (a 56% case, 9x9 input and 5x5
# kernel, takes rows although shift was 1.2x faster there; no LeNet layer lies in between).
SHIFT_MIN_KEPT = 0.6
# Without BLAS the product itself is the cost, so under Pyodide the exact layout (no wasted columns) wins up to
# 90% kept: measured as a training step, C3 (71% kept) 10% and C1 (88%) 1.5% faster than through "shift".
EXACT_MAX_KEPT = 0.9
# On CPython the exact layout's copies (runs of Wo*N numbers, one per output row) beat the shift layout's (one per
# image, Ho*Wp long) once the batch is large against the rows: forward + backward at batch 32, LeNet's C1 1.06
# against 1.26 ms and C3 1.13 against 1.57 ms (1.7x at batch 256), 3x3 "same" convolutions of 7-28 pixels
# 1.1-1.4x. A few big images keep "shift" (a 256x256 photo at batch 1: 0.74 against 0.92 ms; about even at
# batch 8 with its 252 rows): exact when batch * EXACT_ROWS_PER_IMAGE >= Ho.
EXACT_ROWS_PER_IMAGE = 32
# The work of one 2-D real transform of S points, in multiply-add equivalents: 3.2 * S * log2(S). Calibrated
# under Pyodide, where a 16x16 transform took 2 us, as long as 6,600 multiply-adds of its products take
# (np.einsum's scalar 6.6 GFLOP/s): 3.2 * 256 * 8 = 6,554.
FFT_COST_PER_POINT_LOG = 3.2


def _fft_pays(out_hw, padded_hw, kernel_shape):
    """Whether the "fft" layout does less work than a direct one, in multiply-add equivalents per image (forward
    and both gradients, three products each): directly 3*C*F*Ho*Wo*kh*kw; through transforms 3 complex products
    (4 real multiply-adds each) per frequency and channel pair, plus the 2*(C+F) transforms of an image's input,
    output, output gradient and input gradient (the kernel's are per batch and left out). Right in all 12 cases
    timed under Pyodide, e.g. LeNet's C3 (fft: 4.1 ms instead of 7.7 ms at batch 32), C1 and C5 (direct)."""
    kh, kw, c, f = kernel_shape
    sh, sw = fft_size(padded_hw[0]), fft_size(padded_hw[1])
    direct = 3 * c * f * out_hw[0] * out_hw[1] * kh * kw
    points = sh * sw
    transforms = (12 * c * f * sh * (sw // 2 + 1)
                  + 2 * (c + f) * FFT_COST_PER_POINT_LOG * points * math.log2(points))
    return transforms < direct


def pick_layout(stride, out_hw, padded_hw, kernel_shape, batch):
    """The fastest layout of this convolution on this platform (backend.WASM): "rows" (conv.py's), or a key of
    LAYOUTS. stride (sh, sw), out_hw (Ho, Wo), padded_hw (Hp, Wp), kernel_shape (kh, kw, C, F), batch N."""
    wo, wp = out_hw[1], padded_hw[1]
    if stride == (1, 1) and backend.WASM and _fft_pays(out_hw, padded_hw, kernel_shape):
        return "fft"
    if stride != (1, 1) or wo < SHIFT_MIN_KEPT * wp:
        return "rows"
    if backend.WASM:
        return "exact" if wo < EXACT_MAX_KEPT * wp else "shift"
    return "exact" if batch * EXACT_ROWS_PER_IMAGE >= out_hw[0] else "shift"


def choose_layout(layout, stride, out_hw, padded_hw, kernel_shape, batch, name="conv2d"):
    """`layout` once checked ("rows" or a key of LAYOUTS, the latter at stride 1 only), or pick_layout's choice
    when it is None. ValueError naming `name` otherwise."""
    if layout is None:
        return pick_layout(stride, out_hw, padded_hw, kernel_shape, batch)
    if layout != "rows" and layout not in LAYOUTS:
        raise ValueError(f"{name}: layout must be 'rows' or one of {', '.join(map(repr, LAYOUTS))}, got {layout!r}")
    if layout != "rows" and stride != (1, 1):
        raise ValueError(f"{name}: the {layout!r} layout needs stride 1, got strides {stride}")
    return layout
