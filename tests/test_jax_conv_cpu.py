"""The XLA:CPU forms of the convolution in core/jax/ops.py give lax.conv_general_dilated's numbers: values, kernel
and input gradients, with strides, padding and the batch cut into chunks (several through lax.map, plus a remainder).
"""
import jax
import numpy as np
import pytest
from jax import lax
from test_jax_parity import assert_tree_close, batch

import core.jax as cj
from core import models
from core.jax import ops, zoo

CASES = [((1, 1), ((0, 0), (0, 0))), ((2, 1), ((2, 2), (1, 1))), ((2, 2), ((0, 1), (1, 0)))]


def reference(x, kernel, strides, pads):
    return lax.conv_general_dilated(x, kernel, strides, list(pads), dimension_numbers=("NHWC", "HWIO", "NHWC"))


def value_and_grads(conv, x, kernel, g):
    """conv(x, kernel), and the gradients of sum(conv * g) with respect to x and kernel."""
    z, vjp = jax.vjp(conv, x, kernel)
    return (z, *vjp(g))


def check_against_lax(form, x, kernel, strides, pads):
    g = np.random.default_rng(2).standard_normal(reference(x, kernel, strides, pads).shape).astype(np.float32)
    want = value_and_grads(lambda a, k: reference(a, k, strides, pads), x, kernel, g)
    got = value_and_grads(lambda a, k: form(a, k, strides, pads), x, kernel, g)
    for name, a, b in zip(("value", "dx", "dkernel"), got, want):
        assert a.shape == b.shape, name
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("strides,pads", CASES)
def test_one_channel_form_matches_lax_over_chunks(monkeypatch, strides, pads):
    """7 images, 2 per chunk: three chunks through lax.map and a remainder of one."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 9, 10, 1)).astype(np.float32)
    kernel = rng.standard_normal((3, 4, 1, 5)).astype(np.float32)
    per_image = 3 * 4 * (9 + sum(pads[0]) - 2) * (10 + sum(pads[1]) - 3) * 4
    monkeypatch.setattr(ops, "_COPIES_BYTES", 2 * per_image)
    monkeypatch.setattr(ops, "_COLUMNS_BYTES", 10**9)
    assert ops._padded_chunks(x, kernel, pads)[1] == 2
    check_against_lax(ops.conv_one_channel, x, kernel, strides, pads)
    monkeypatch.setattr(ops, "_COPIES_BYTES", 10**9)          # the whole batch as one chunk
    check_against_lax(ops.conv_one_channel, x, kernel, strides, pads)


@pytest.mark.parametrize("strides,pads", CASES)
def test_col2im_input_gradient_matches_lax_over_chunks(monkeypatch, strides, pads):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 8, 9, 3)).astype(np.float32)
    kernel = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
    ho, wo = reference(x, kernel, strides, pads).shape[1:3]
    monkeypatch.setattr(ops, "_COLUMNS_BYTES", 3 * ho * wo * 3 * 2 * 3 * 4)   # 3 images per chunk: 2 chunks + 1
    check_against_lax(ops.conv_cpu, x, kernel, strides, pads)
    monkeypatch.setattr(ops, "_COLUMNS_BYTES", 10**9)
    check_against_lax(ops.conv_cpu, x, kernel, strides, pads)


def test_lenet_with_small_chunks_matches_the_core(monkeypatch):
    """The whole model: C1 in chunks of 2 images, C3's input gradient in chunks of 3, against the NumPy core."""
    monkeypatch.setattr(ops, "_COPIES_BYTES", 2 * 25 * 28 * 28 * 4)
    monkeypatch.setattr(ops, "_COLUMNS_BYTES", 3 * 10 * 10 * 150 * 4)
    model = models.lenet5()
    params = model.init(seed=3)
    x, y = batch((32, 32, 1), 10, n=7)
    want_loss, want_grads = model.value_and_grad(params, x, y)
    got_loss, got_grads = cj.compile(model).value_and_grad(params, x, y)
    np.testing.assert_allclose(float(got_loss), float(want_loss), rtol=1e-5)
    assert_tree_close(got_grads, want_grads, rtol=1e-4)


def test_the_gpu_path_matches_the_core_too(monkeypatch):
    """Off the CPU backend every convolution is plain lax.conv_general_dilated; checked here by pretending."""
    monkeypatch.setattr(ops, "_on_cpu", lambda: False)
    model = models.lenet5()
    params = model.init(seed=3)
    x, y = batch((32, 32, 1), 10, n=5)
    jm = cj.compile(model)
    assert "custom_vjp" not in str(jax.make_jaxpr(lambda p: jm.forward(p, x)[-1])(params))
    np.testing.assert_allclose(np.asarray(jm.apply(params, x)), model.apply(params, x), rtol=1e-5, atol=1e-7)
    assert_tree_close(jm.value_and_grad(params, x, y)[1], model.value_and_grad(params, x, y)[1], rtol=1e-4)


def test_which_convolutions_take_the_cpu_forms():
    """LeNet-5 on the CPU: C1 (one channel) and C3 (unpadded, 6 channels) take them, C5 is a dot; a VGG's "same"
    convolutions keep XLA's own (col2im lost there), except its one-channel first layer."""
    for model, expected in ((models.lenet5(), 2), (zoo.vgg(), 1)):
        jm = cj.compile(model)
        x = np.zeros((2, *model.input_shape), np.float32)
        jaxpr = str(jax.make_jaxpr(lambda p, jm=jm, x=x: jm.forward(p, x)[-1])(model.init(seed=0)))
        assert jaxpr.count("custom_vjp_call") == expected, model.name
