"""Convolution and pooling against SciPy references, over strides, paddings and channel counts."""
import numpy as np
import pytest
from scipy import signal

from core import arithmetic, conv, pooling


def reference_conv(x, k, b, stride, padding):
    """Cross-correlation with scipy per (image, filter), then subsample by the stride."""
    n, h, w, c = x.shape
    kh, kw, _, f = k.shape
    ph = arithmetic.pad_amounts(h, kh, stride, padding)
    pw = arithmetic.pad_amounts(w, kw, stride, padding)
    xp = np.pad(x, ((0, 0), ph, pw, (0, 0)))
    out = np.stack([np.stack([signal.correlate(xp[i], k[:, :, :, j], mode="valid")[:, :, 0] for j in range(f)], -1)
                    for i in range(n)])
    return out[:, ::stride, ::stride, :] + b


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", ["valid", "same", 1, 2])
@pytest.mark.parametrize("channels,filters,ksize", [(1, 1, 3), (3, 4, 3), (2, 5, 5), (4, 2, 1)])
def test_conv_matches_scipy(stride, padding, channels, filters, ksize):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 11, channels))
    k = rng.standard_normal((ksize, ksize, channels, filters))
    b = rng.standard_normal(filters)
    out, _ = conv.conv2d_forward(x, k, b, stride, padding)
    ref = reference_conv(x, k, b, stride, padding)
    assert out.shape == ref.shape
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)


def test_same_padding_keeps_ceil_size():
    x = np.zeros((1, 256, 256, 3), np.float32)
    k = np.zeros((3, 3, 3, 64), np.float32)
    assert conv.conv2d_forward(x, k, None, 2, "same")[0].shape == (1, 128, 128, 64)


def test_single_image_convenience():
    rng = np.random.default_rng(1)
    img, k = rng.random((12, 10)), rng.random((3, 3))
    np.testing.assert_allclose(conv.conv2d(img, k), signal.correlate2d(img, k, mode="valid"), rtol=1e-6)
    np.testing.assert_allclose(conv.conv2d(img, k, bias=0.5), signal.correlate2d(img, k, mode="valid") + 0.5, rtol=1e-6)


@pytest.mark.parametrize("bad,match", [
    (dict(x=(1, 3, 3, 1), k=(5, 5, 1, 2)), r"kernel 5x5 is larger than the input 3x3"),
    (dict(x=(1, 8, 8, 3), k=(3, 3, 1, 2)), r"expects 1 input channels, got input of shape \(1, 8, 8, 3\)"),
    (dict(x=(8, 8, 3), k=(3, 3, 3, 2)), r"expects a 4-D input \(N, H, W, C\), got shape \(8, 8, 3\)"),
    (dict(x=(1, 8, 8, 1), k=(3, 3, 1, 2), stride=0), r"strides must be a positive integer, got 0"),
])
def test_conv_bad_inputs_raise_clearly(bad, match):
    x, k = np.zeros(bad["x"]), np.zeros(bad["k"])
    with pytest.raises(ValueError, match=match):
        conv.conv2d_forward(x, k, None, bad.get("stride", 1), "valid", name="Conv2D 'c1'")


def reference_pool(x, size, stride, padding, reduce):
    n, h, w, c = x.shape
    ph = arithmetic.pad_amounts(h, size, stride, padding)
    pw = arithmetic.pad_amounts(w, size, stride, padding)
    ho = arithmetic.output_length(h, size, stride, padding)
    wo = arithmetic.output_length(w, size, stride, padding)
    out = np.zeros((n, ho, wo, c))
    for i in range(ho):
        for j in range(wo):
            r0, c0 = i * stride - ph[0], j * stride - pw[0]
            win = x[:, max(r0, 0):r0 + size, max(c0, 0):c0 + size, :]   # pads are left out
            out[:, i, j, :] = reduce(win, axis=(1, 2))
    return out


@pytest.mark.parametrize("size,stride,padding", [(2, None, "valid"), (2, 2, "same"), (3, 2, "valid"),
                                                 (3, 2, "same"), (3, 1, "same"), (2, 1, "valid"), (3, None, "valid")])
@pytest.mark.parametrize("shape", [(2, 7, 8, 3), (2, 12, 6, 3)])   # 12x6 tiles exactly for sizes 2 and 3
def test_pooling_matches_loops(size, stride, padding, shape):
    x = np.random.default_rng(2).standard_normal(shape)
    s = size if stride is None else stride
    mx, _ = pooling.max_pool_forward(x, size, stride, padding)
    av, _ = pooling.avg_pool_forward(x, size, stride, padding)
    np.testing.assert_allclose(mx, reference_pool(x, size, s, padding, np.max))
    np.testing.assert_allclose(av, reference_pool(x, size, s, padding, np.mean))


def test_max_pool_argmax_points_at_the_maximum():
    x = np.random.default_rng(3).standard_normal((1, 6, 6, 2))
    out, _ = pooling.max_pool_forward(x, 3, 2, "same")
    rows, cols = pooling.max_pool_argmax(x, 3, 2, "same")
    picked = x[0, rows[0], cols[0], np.arange(2)[None, None, :]]
    np.testing.assert_array_equal(picked, out[0])


def test_max_pool_gradient_goes_to_argmax_only():
    x = np.array([[1., 5.], [3., 2.]]).reshape(1, 2, 2, 1)
    out, cache = pooling.max_pool_forward(x, 2)
    dx = pooling.max_pool_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 1], [0, 0]])
    out, cache = pooling.avg_pool_forward(x, 2)
    np.testing.assert_array_equal(pooling.avg_pool_backward(np.ones_like(out), cache)[0, :, :, 0], 0.25)


def test_max_pool_ties_do_not_double_the_gradient():
    x = np.zeros((1, 4, 4, 1))
    out, cache = pooling.max_pool_forward(x, 2)
    dx = pooling.max_pool_backward(np.ones_like(out), cache)
    assert dx.sum() == out.size


def test_layouts_agree_and_accept_any_memory_order():
    """The stride-1 "shift" and "exact" paths and the im2col "rows" path compute the same thing, for any input
    memory order."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 2, 9, 10)).transpose(0, 2, 3, 1)     # NHWC view of channel-major memory
    k = rng.standard_normal((3, 3, 2, 4))
    ref = reference_conv(np.ascontiguousarray(x), k, 0, 1, "same")
    assert conv.conv2d_forward(x, k, None, 1, "same")[1]["layout"] == "exact"      # a batch against 9 rows
    for layout in ("shift", "exact"):
        fast, _ = conv.conv2d_forward(x, k, None, 1, "same", layout=layout)
        contiguous, _ = conv.conv2d_forward(np.ascontiguousarray(x), k, None, 1, "same", layout=layout)
        np.testing.assert_allclose(fast, ref, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(contiguous, ref, rtol=1e-10, atol=1e-10)
    # a window nearly as large as the input uses the rows path even at stride 1 (like LeNet's C5)
    k5 = rng.standard_normal((5, 5, 2, 3))
    rows, cache = conv.conv2d_forward(x[:, :6, :6, :], k5, None, 1, "valid")
    assert cache["layout"] == "rows"
    np.testing.assert_allclose(rows, reference_conv(np.ascontiguousarray(x[:, :6, :6, :]), k5, 0, 1, "valid"),
                               rtol=1e-10, atol=1e-10)
    mx, cache = pooling.max_pool_forward(fast, 3)       # the exact layout's (C, H, W, N) memory, pooled as is
    np.testing.assert_allclose(mx, reference_pool(np.ascontiguousarray(fast), 3, 3, "valid", np.max))
    assert pooling.max_pool_backward(np.ones_like(mx), cache).sum() == mx.size


def test_a_conv_cache_serves_one_backward_pass():
    """Its buffers go back to core._scratch after the backward pass, so a second use must fail loudly, not read
    memory a later forward pass may have overwritten."""
    x = np.random.default_rng(6).standard_normal((2, 8, 8, 3))
    k = np.random.default_rng(7).standard_normal((3, 3, 3, 4))
    out, cache = conv.conv2d_forward(x, k, None, 1, "same")
    conv.conv2d_backward(np.ones_like(out), cache)
    with pytest.raises(ValueError, match="already used"):
        conv.conv2d_backward(np.ones_like(out), cache)


def test_recycled_buffers_do_not_leak_between_calls():
    """Two forward passes in a row (nothing given back between them) and then interleaved backward passes
    give the same gradients as fresh, one-at-a-time computations."""
    rng = np.random.default_rng(8)
    xa, xb = rng.standard_normal((2, 2, 9, 9, 2))
    k = rng.standard_normal((3, 3, 2, 3))
    da = rng.standard_normal((2, 9, 9, 3))
    ref_a = conv.conv2d_backward(da, conv.conv2d_forward(xa, k, None, 1, "same")[1])
    ref_b = conv.conv2d_backward(da, conv.conv2d_forward(xb, k, None, 1, "same")[1])
    _, ca = conv.conv2d_forward(xa, k, None, 1, "same")
    _, cb = conv.conv2d_forward(xb, k, None, 1, "same")
    got_a = conv.conv2d_backward(da, ca)
    _, cc = conv.conv2d_forward(xa * 0, k, None, 1, "same")    # takes the buffers ca just gave back
    got_b = conv.conv2d_backward(da, cb)
    for got, ref in ((got_a, ref_a), (got_b, ref_b)):
        for g, r in zip(got, ref):
            np.testing.assert_array_equal(g, r)


@pytest.mark.parametrize("n", range(1, 9))
def test_tiles_means_every_pixel_in_exactly_one_window(n):
    """arithmetic.tiles against counting: along an axis of n, windows of k at stride s cover each pixel once."""
    for k in range(1, n + 1):
        for s in range(1, n + 2):
            covered = np.zeros(n, int)
            for start in range(0, arithmetic.output_length(n, k, s, "valid") * s, s):
                covered[start:start + k] += 1
            once = bool((covered == 1).all())
            assert arithmetic.tiles((n, 6), (k, 2), (s, 2)) == once, (n, k, s)
            assert arithmetic.tiles((6, n), (3, k), (3, s)) == once, (n, k, s)


@pytest.mark.parametrize("kind, layer", [("pool", "MaxPooling2D"), ("pool", "AveragePooling2D"), ("kernel", "Conv2D")])
def test_layers_and_kernels_share_one_size_check_and_one_set_of_pads(kind, layer):
    """A layer's build and the kernel it calls ask the same arithmetic.window_pads: the same pads, the same error."""
    from core import layers
    make = {"MaxPooling2D": lambda **kw: layers.MaxPooling2D(3, 2, **kw),
            "AveragePooling2D": lambda **kw: layers.AveragePooling2D(3, 2, **kw),
            "Conv2D": lambda **kw: layers.Conv2D(2, 3, 2, **kw)}[layer]
    call = {"MaxPooling2D": lambda x, l: pooling.check_pool_input(x, 3, 2, l.padding, l.label)[2:],
            "AveragePooling2D": lambda x, l: pooling.check_pool_input(x, 3, 2, l.padding, l.label)[2:],
            "Conv2D": lambda x, l: conv.check_conv_input(x, np.zeros((3, 3, 1, 2)), 2, l.padding, l.label)[1:]}[layer]
    same = make(padding="same", name="a")
    same.build((7, 8, 1))
    assert same.pads == call(np.zeros((1, 7, 8, 1)), same) == ((1, 1), (0, 1))
    assert same.output_shape[:2] == (4, 4)
    small = make(padding="valid", name="b")
    message = rf"{small.label}: {kind} 3x3 is larger than the input 2x5 \(padding='valid'\); use padding='same' or a smaller {kind}"
    with pytest.raises(ValueError, match=message):
        small.build((2, 5, 1))
    with pytest.raises(ValueError, match=message):
        call(np.zeros((1, 2, 5, 1)), small)


def test_pooling_settings_are_checked_once_for_layers_and_kernels():
    from core import layers
    with pytest.raises(ValueError, match=r"MaxPooling2D 'p': pooling padding must be 'valid' or 'same', got 1"):
        layers.MaxPooling2D(2, padding=1, name="p")
    with pytest.raises(ValueError, match=r"max_pooling2d: pooling padding must be 'valid' or 'same', got 1"):
        pooling.max_pool_forward(np.zeros((1, 4, 4, 1)), 2, padding=1)
