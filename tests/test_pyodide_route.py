"""The code paths taken under Pyodide (matmul.USE_EINSUM: no BLAS there, so products go through np.einsum and
element-wise steps use the forms that are fast in WebAssembly) give the same numbers as the CPython paths."""
import numpy as np
import pytest

from core import activations, conv, matmul, pooling


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def both_routes(monkeypatch, fn):
    """fn() on the CPython route, then on the Pyodide route."""
    monkeypatch.setattr(matmul, "USE_EINSUM", False)
    cpython = fn()
    monkeypatch.setattr(matmul, "USE_EINSUM", True)
    return cpython, fn()


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_exact_conv_layout_matches_shift_and_rows(monkeypatch, rng, padding):
    """LeNet's C3 shape (10 of 14 columns kept) takes the "exact" layout on the Pyodide route only."""
    x = rng.standard_normal((3, 14, 14, 6))
    k = rng.standard_normal((5, 5, 6, 4))
    b = rng.standard_normal(4)
    dout_shape = conv.conv2d_forward(x, k, b, 1, padding)[0].shape
    dout = rng.standard_normal(dout_shape)

    def run():
        out, cache = conv.conv2d_forward(x, k, b, 1, padding)
        return cache["layout"], out, conv.conv2d_backward(dout, cache)

    (lay_c, out_c, grads_c), (lay_p, out_p, grads_p) = both_routes(monkeypatch, run)
    assert (lay_c, lay_p) == ("shift", "exact")
    np.testing.assert_allclose(out_p, out_c, rtol=1e-12, atol=1e-12)
    for gp, gc in zip(grads_p, grads_c):
        np.testing.assert_allclose(gp, gc, rtol=1e-12, atol=1e-12)
    # and against the plain im2col "rows" path
    xp = conv.pad_input(x, *conv.check_conv_input(x, k, 1, padding)[1:])
    ref = (conv.im2col(xp, (5, 5), (1, 1)) @ k.reshape(-1, 4) + b).reshape(out_c.shape)
    np.testing.assert_allclose(out_p, ref, rtol=1e-12, atol=1e-12)


def test_exact_layout_reads_batch_inner_memory_and_keeps_it(monkeypatch, rng):
    """The exact layout keeps (C, H, W, N) memory: an input lying so is read as is, the output lies so too,
    and the next exact convolution (after a pooling layer) gets the same numbers as the CPython route."""
    x = np.ascontiguousarray(rng.standard_normal((4, 14, 14, 3))).transpose(3, 1, 2, 0)   # NHWC view of CHWN
    k = rng.standard_normal((5, 5, 4, 2))
    ref = (conv.im2col(np.ascontiguousarray(x), (5, 5), (1, 1)) @ k.reshape(-1, 2)).reshape(3, 10, 10, 2)
    monkeypatch.setattr(matmul, "USE_EINSUM", True)
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


@pytest.mark.parametrize("shape, stride", [((2, 14, 14, 3), 1), ((2, 9, 9, 3), 1), ((2, 11, 11, 3), 2)])
@pytest.mark.parametrize("einsum", [False, True])
def test_conv_relu_fused_is_relu_of_conv(monkeypatch, rng, shape, stride, einsum):
    """conv2d_forward(relu=True) on each layout ("shift"/"exact", "rows") equals relu applied afterwards."""
    monkeypatch.setattr(matmul, "USE_EINSUM", einsum)
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
