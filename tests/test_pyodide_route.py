"""The code paths taken under Pyodide (backend.WASM: no BLAS there, so products go through np.einsum and
element-wise steps use the forms that are fast in WebAssembly) give the same numbers as the CPython paths."""
import numpy as np
import pytest

from core import activations, backend, conv, pooling


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def both_routes(monkeypatch, fn):
    """fn() on the CPython route, then on the Pyodide route."""
    monkeypatch.setattr(backend, "WASM", False)
    cpython = fn()
    monkeypatch.setattr(backend, "WASM", True)
    return cpython, fn()


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_exact_conv_layout_matches_shift_and_rows(monkeypatch, rng, padding):
    """A 3x3 kernel over 14x14 (12 or 14 of 16 columns kept) takes the "exact" layout on both routes (on CPython
    for its batch, under Pyodide for the shift layout's wasted columns); it equals "shift" and "rows"."""
    x = rng.standard_normal((3, 14, 14, 6))
    k = rng.standard_normal((3, 3, 6, 4))
    b = rng.standard_normal(4)
    dout_shape = conv.conv2d_forward(x, k, b, 1, padding)[0].shape
    dout = rng.standard_normal(dout_shape)

    def run():
        out, cache = conv.conv2d_forward(x, k, b, 1, padding)
        return cache["layout"], out, conv.conv2d_backward(dout, cache)

    (lay_c, out_c, grads_c), (lay_p, out_p, grads_p) = both_routes(monkeypatch, run)
    assert (lay_c, lay_p) == ("exact", "exact")
    out_s, cache_s = conv.conv2d_forward(x, k, b, 1, padding, layout="shift")
    grads_s = conv.conv2d_backward(dout, cache_s)
    for out, grads in ((out_c, grads_c), (out_p, grads_p)):
        np.testing.assert_allclose(out, out_s, rtol=1e-12, atol=1e-12)
        for got, want in zip(grads, grads_s):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # and against the plain im2col "rows" path
    xp = conv.pad_input(x, *conv.check_conv_input(x, k, 1, padding)[1:])
    ref = (conv.im2col(xp, (3, 3), (1, 1)) @ k.reshape(-1, 4) + b).reshape(out_c.shape)
    np.testing.assert_allclose(out_p, ref, rtol=1e-12, atol=1e-12)


def test_exact_layout_reads_batch_inner_memory_and_keeps_it(monkeypatch, rng):
    """The exact layout keeps (C, H, W, N) memory: an input lying so is read as is, the output lies so too,
    and the next exact convolution (after a pooling layer) gets the same numbers as the CPython route."""
    x = np.ascontiguousarray(rng.standard_normal((4, 14, 14, 3))).transpose(3, 1, 2, 0)   # NHWC view of CHWN
    k = rng.standard_normal((5, 5, 4, 2))
    ref = (conv.im2col(np.ascontiguousarray(x), (5, 5), (1, 1)) @ k.reshape(-1, 2)).reshape(3, 10, 10, 2)
    monkeypatch.setattr(backend, "WASM", True)
    out, cache = conv.conv2d_forward(x, k, None, 1, "valid")
    assert cache["layout"] == "exact" and out.transpose(3, 1, 2, 0).flags.c_contiguous
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    pooled, pool_cache = pooling.max_pool_forward(out, 2)
    dpool = pooling.max_pool_backward(np.ones_like(pooled), pool_cache)
    assert dpool.transpose(3, 1, 2, 0).flags.c_contiguous      # the gradient keeps the layout
    np.testing.assert_array_equal(dpool, pooling.max_pool_backward(np.ones(pooled.shape),
                                                                   pooling.max_pool_forward(ref, 2)[1]))


@pytest.mark.parametrize("pool", [2, 3])
def test_max_pool_routes_agree(monkeypatch, rng, pool):
    """2x2 keeps a bool winner, 3x3 an int8 one; both routes pick the same maxima and route the same gradients,
    ties included (the first position wins)."""
    x = rng.integers(-2, 3, (2, 6, 12, 3)).astype(np.float64)     # small integers: many ties
    dout = rng.standard_normal((2, 6 // pool, 12 // pool, 3))

    def run():
        out, cache = pooling.max_pool_forward(x, pool)
        return out, pooling.max_pool_backward(dout, cache)

    (out_c, dx_c), (out_p, dx_p) = both_routes(monkeypatch, run)
    np.testing.assert_array_equal(out_p, out_c)
    np.testing.assert_array_equal(dx_p, dx_c)
    assert np.count_nonzero(dx_p) == dout.size                   # each gradient goes to exactly one pixel


def test_relu_backward_routes_agree(monkeypatch, rng):
    z = rng.standard_normal((4, 5, 5, 3)).astype(np.float32)
    z[0, 0, 0] = 0.0
    a = activations.forward("relu", z)
    dout = rng.standard_normal(z.shape).astype(np.float32)
    dz_c, dz_p = both_routes(monkeypatch, lambda: activations.backward("relu", dout, a))
    np.testing.assert_array_equal(dz_p, dz_c)
    assert dz_p.dtype == dout.dtype


@pytest.mark.parametrize("shape, stride", [((2, 14, 14, 3), 1), ((2, 9, 9, 3), 1), ((2, 11, 11, 3), 2),
                                           ((2, 16, 16, 3), 1)])
@pytest.mark.parametrize("wasm", [False, True])
def test_conv_relu_fused_is_relu_of_conv(monkeypatch, rng, shape, stride, wasm):
    """conv2d_forward(relu=True) on each layout ("shift"/"exact", "rows", "fft") equals relu applied afterwards."""
    monkeypatch.setattr(backend, "WASM", wasm)
    x = rng.standard_normal(shape)
    k, b = rng.standard_normal((5, 5, 3, 4)), rng.standard_normal(4)
    plain, _ = conv.conv2d_forward(x, k, b, stride)
    fused, _ = conv.conv2d_forward(x, k, b, stride, relu=True)
    np.testing.assert_array_equal(fused, np.maximum(plain, 0))
    assert (plain < 0).any()


@pytest.mark.parametrize("hw, k, stride", [((5, 5), (5, 5), (1, 1)),     # one window per image (LeNet's C5)
                                           ((5, 7), (5, 7), (2, 3)),
                                           ((6, 6), (3, 3), (3, 3)),     # tiles exactly
                                           ((7, 6), (3, 2), (1, 2)),     # overlapping rows
                                           ((5, 6), (5, 2), (1, 1))])    # one window high, overlapping columns
def test_col2im_is_the_adjoint_of_im2col(rng, hw, k, stride):
    """<im2col(x), D> == <x, col2im(D)> for every x and D: the fast reorder paths included."""
    x = rng.standard_normal((2,) + hw + (3,))
    cols = conv.im2col(x, k, stride)
    d = rng.standard_normal(cols.shape)
    np.testing.assert_allclose(np.vdot(cols, d), np.vdot(x, conv.col2im(d, x.shape, k, stride)), rtol=1e-12)


@pytest.mark.parametrize("shape, kernel, padding", [((3, 14, 14, 6), (5, 5, 6, 16), "valid"),   # LeNet's C3
                                                    ((2, 12, 12, 8), (5, 5, 8, 8), "same"),
                                                    ((2, 9, 11, 8), (5, 7, 8, 12), "same"),    # odd, unequal
                                                    ((2, 10, 10, 8), (7, 7, 8, 8), 2)])         # int padding
def test_fft_layout_matches_the_direct_convolution(monkeypatch, rng, shape, kernel, padding):
    """Where it does less work (kernels of 5x5 or more over small images) the Pyodide route convolves through
    Fourier transforms: output and all three gradients equal the CPython route's to float64 rounding."""
    x, k, b = rng.standard_normal(shape), rng.standard_normal(kernel), rng.standard_normal(kernel[3])
    dout = rng.standard_normal(conv.conv2d_forward(x, k, b, 1, padding)[0].shape)

    def run():
        out, cache = conv.conv2d_forward(x, k, b, 1, padding)
        return cache["layout"], out, conv.conv2d_backward(dout, cache)

    (lay_c, out_c, grads_c), (lay_p, out_p, grads_p) = both_routes(monkeypatch, run)
    assert lay_c != "fft" and lay_p == "fft"
    np.testing.assert_allclose(out_p, out_c, rtol=1e-10, atol=1e-10)
    for gp, gc in zip(grads_p, grads_c):
        assert gp.shape == gc.shape
        np.testing.assert_allclose(gp, gc, rtol=1e-10, atol=1e-10)


def test_fft_layout_in_float32_keeps_the_dtype_and_errs_like_float32(monkeypatch, rng):
    """float32 in, float32 out (NumPy 2 transforms float32 as complex64); errors are float32 rounding of the
    largest values, not more."""
    x = rng.standard_normal((4, 14, 14, 6)).astype(np.float32)
    k, b = (rng.standard_normal((5, 5, 6, 16)) * 0.1).astype(np.float32), np.zeros(16, np.float32)
    dout = rng.standard_normal((4, 10, 10, 16)).astype(np.float32)
    ref_out, ref_cache = conv.conv2d_forward(x.astype(np.float64), k.astype(np.float64), b.astype(np.float64))
    ref = (ref_out,) + conv.conv2d_backward(dout.astype(np.float64), ref_cache)
    monkeypatch.setattr(backend, "WASM", True)
    out, cache = conv.conv2d_forward(x, k, b)
    got = (out,) + conv.conv2d_backward(dout, cache)
    assert cache["layout"] == "fft"
    for g, r in zip(got, ref):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, r, atol=1e-5 * np.abs(r).max())


def test_lenet_training_step_agrees_across_routes_in_float32(monkeypatch):
    """The whole LeNet-5 step the browser runs (C3 through transforms, float32) against the CPython route."""
    from core import models
    model = models.lenet5()
    params = model.init(seed=1)
    x = np.random.default_rng(4).random((8, 32, 32, 1), dtype=np.float32)
    y = np.arange(8) % 10
    (loss_c, grads_c), (loss_p, grads_p) = both_routes(monkeypatch, lambda: model.value_and_grad(params, x, y))
    np.testing.assert_allclose(loss_p, loss_c, rtol=1e-5)
    for name in grads_c:
        for w in grads_c[name]:
            assert grads_p[name][w].dtype == np.float32
            scale = np.abs(grads_c[name][w]).max()
            np.testing.assert_allclose(grads_p[name][w], grads_c[name][w], atol=1e-4 * scale)


def test_fft_layout_keeps_the_batch_innermost_and_works_without_bias(monkeypatch, rng):
    """Output and input gradient lie with the batch innermost (the pooling around LeNet's C3 then runs over
    contiguous runs); without a bias there is no bias gradient, and the rest still matches."""
    x = rng.standard_normal((6, 14, 14, 4)).transpose(3, 1, 2, 0)         # NHWC view of CHWN memory
    k = rng.standard_normal((5, 5, 6, 16))
    dout = rng.standard_normal((4, 10, 10, 16))
    ref, ref_cache = conv.conv2d_forward(np.ascontiguousarray(x), k)
    ref_grads = conv.conv2d_backward(dout, ref_cache)
    monkeypatch.setattr(backend, "WASM", True)
    out, cache = conv.conv2d_forward(x, k)
    assert cache["layout"] == "fft" and out.strides[0] == out.itemsize
    dx, dk, db = conv.conv2d_backward(dout, cache)
    assert dx.strides[0] == dx.itemsize and db is None and ref_grads[2] is None
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, ref_grads[0], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dk, ref_grads[1], rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="already used"):
        conv.conv2d_backward(dout, cache)
