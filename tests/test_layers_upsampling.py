"""The layers that grow a feature map back (issue 10): Conv2DTranspose and UpSampling2D, with Keras' semantics and
output sizes, against a loop written from the definition, finite differences, the summary and the weights file."""
import numpy as np
import pytest

from core import arithmetic, conv, models
from core import layers as L
from gradcheck import check_model


def transposed_by_loops(x, kernel, bias, stride, padding):
    """The definition: input pixel (i, j) adds kernel[a, b] @ x[i, j] at output (i*s + a - top, j*s + b - left),
    on an output of Keras' size; "same" crops the pads (the extra one after) of the convolution it transposes."""
    n, h, w, c = x.shape
    kh, kw, f, _ = kernel.shape
    sh, sw = stride
    ho, wo = arithmetic.transposed_output_hw((h, w), (kh, kw), stride, padding)
    top = arithmetic.pad_amounts(ho, kh, sh, padding)[0]
    left = arithmetic.pad_amounts(wo, kw, sw, padding)[0]
    out = np.zeros((n, ho, wo, f)) + (0 if bias is None else bias)
    for i in range(h):
        for j in range(w):
            for a in range(kh):
                for b in range(kw):
                    r, q = i * sh + a - top, j * sw + b - left
                    if 0 <= r < ho and 0 <= q < wo:
                        out[:, r, q, :] += x[:, i, j, :] @ kernel[a, b].T
    return out


# Keras' sizes (keras.src.utils.conv_utils.deconv_output_length with output_padding=None), worked out by hand
@pytest.mark.parametrize("n,k,s,padding,want", [(7, 3, 2, "valid", 15), (7, 3, 2, "same", 14), (7, 2, 2, "valid", 14),
                                                (7, 1, 2, "valid", 14), (4, 5, 1, "valid", 8), (4, 5, 1, "same", 4),
                                                (3, 4, 3, "valid", 10), (3, 4, 3, "same", 9)])
def test_transposed_output_length_is_keras(n, k, s, padding, want):
    assert arithmetic.transposed_length(n, k, s, padding) == want
    # and the convolution it transposes maps that length back to n
    assert arithmetic.output_length(want, k, s, padding) == n


CASES = [((3, 3), (2, 2), "valid"), ((3, 3), (2, 2), "same"), ((2, 2), (2, 2), "valid"), ((1, 2), (2, 3), "valid"),
         ((4, 3), (3, 2), "same"), ((5, 5), (1, 1), "same"), ((2, 3), (3, 1), "same")]


@pytest.mark.parametrize("kernel_size,stride,padding", CASES)
def test_conv2d_transpose_forward_is_the_definition(kernel_size, stride, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 5, 3))
    kernel = rng.standard_normal((*kernel_size, 2, 3))
    bias = rng.standard_normal(2)
    out, _ = conv.conv2d_transpose_forward(x, kernel, bias, stride, padding)
    np.testing.assert_allclose(out, transposed_by_loops(x, kernel, bias, stride, padding), rtol=1e-12, atol=1e-12)
    layer = L.Conv2DTranspose(2, kernel_size, strides=stride, padding=padding)
    assert layer.build((4, 5, 3)) == out.shape[1:]


@pytest.mark.parametrize("kernel_size,stride,padding", CASES)
def test_conv2d_transpose_is_the_adjoint_of_the_convolution(kernel_size, stride, padding):
    """<conv_transpose(x), y> == <x, conv(y)> with the same kernel: the transposed convolution is the convolution's
    input gradient, the fact its backward pass is built on."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4, 5, 3))
    kernel = rng.standard_normal((*kernel_size, 2, 3))
    out, _ = conv.conv2d_transpose_forward(x, kernel, None, stride, padding)
    y = rng.standard_normal(out.shape)
    conv_y, _ = conv.conv2d_forward(y, kernel, None, stride, padding, layout="rows")
    assert conv_y.shape == x.shape
    np.testing.assert_allclose((out * y).sum(), (x * conv_y).sum(), rtol=1e-10)


X = np.random.default_rng(2).standard_normal((2, 4, 4, 2))
Y = np.array([1, 0])


# relu leaves out the case where some output pixels no patch reaches: they hold the zero bias exactly, relu's kink
@pytest.mark.parametrize("kernel_size,stride,padding,activation",
                         [(*case, act) for case in CASES[:5] for act in (None, "sigmoid", "tanh", "relu")
                          if act != "relu" or case[0][1] >= case[1][1]])
def test_conv2d_transpose_gradients(kernel_size, stride, padding, activation):
    # a Conv2D first so that the transposed layer's input gradient is checked too
    model = models.Sequential([L.Input((4, 4, 2)), L.Conv2D(3, 2, padding="same", activation="tanh"),
                               L.Conv2DTranspose(2, kernel_size, strides=stride, padding=padding,
                                                 activation=activation),
                               L.Flatten(), L.Dense(3)])
    check_model(model, X, Y)


def test_conv2d_transpose_gradients_without_bias_and_as_a_regression():
    model = models.Sequential([L.Input((4, 4, 2)), L.Conv2D(2, 3, strides=2, padding="same", activation="tanh"),
                               L.Conv2DTranspose(1, 3, strides=2, padding="same", use_bias=False,
                                                 activation="sigmoid")])
    check_model(model, X, np.random.default_rng(3).random((2, 4, 4, 1)), loss="mse")


def test_upsampling_repeats_pixels_and_sums_their_gradients():
    layer = L.UpSampling2D((2, 3))
    assert layer.build((2, 2, 1)) == (4, 6, 1)
    x = np.arange(8.0).reshape(2, 2, 2, 1)
    out, cache = layer.forward({}, x)
    np.testing.assert_array_equal(out[0, :, :, 0], [[0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1],
                                                    [2, 2, 2, 3, 3, 3], [2, 2, 2, 3, 3, 3]])
    dx, grads = layer.backward({}, np.ones_like(out), cache)
    np.testing.assert_array_equal(dx, np.full(x.shape, 6.0))
    assert grads == {}
    model = models.Sequential([L.Input((4, 4, 2)), L.Conv2D(2, 3, strides=2, padding="same", activation="tanh"),
                               L.UpSampling2D(2), L.Conv2D(2, 3, activation="sigmoid"), L.Flatten(), L.Dense(3)])
    check_model(model, X, Y)


def decoder():
    return models.Sequential([L.Input((7, 7, 4), name="code"), L.Conv2DTranspose(8, 3, strides=2, padding="same",
                                                                                 activation="relu", name="up1"),
                              L.UpSampling2D(2, name="up2"),
                              L.Conv2DTranspose(1, 3, activation="sigmoid", name="out")], name="decoder")


def test_summary_rows_count_params_and_multiplications():
    table = {r["name"]: r for r in decoder().layer_table()}
    assert table["up1"]["output_shape"] == (14, 14, 8)
    assert table["up1"]["params"] == 3 * 3 * 4 * 8 + 8
    assert table["up1"]["mults"] == 7 * 7 * 4 * 3 * 3 * 8 + 14 * 14 * 8     # every input value x its kernel slice
    assert table["up2"] == {"name": "up2", "kind": "UpSampling2D", "output_shape": (28, 28, 8), "params": 0,
                            "mults": 0, "trainable": True}
    assert table["out"]["output_shape"] == (30, 30, 1)                      # "valid": 28 + 3 - 1
    assert "up1 (Conv2DTranspose)" in decoder().summary(print_fn=None)


def test_new_layers_survive_the_weights_file(tmp_path):
    model = decoder()
    params = model.init(seed=4)
    models.save(tmp_path / "d.npz", model, params)
    loaded, loaded_params = models.load(tmp_path / "d.npz")
    assert loaded.get_config() == model.get_config()
    x = np.random.default_rng(5).random((2, 7, 7, 4)).astype(np.float32)
    np.testing.assert_array_equal(loaded.apply(loaded_params, x), model.apply(params, x))


@pytest.mark.parametrize("make,match", [
    (lambda: L.Conv2DTranspose(2, 3, padding=1), "padding must be 'valid' or 'same'"),
    (lambda: L.Conv2DTranspose(2, 0), "kernel_size must be a positive integer"),
    (lambda: L.Conv2DTranspose("2", 3), "filters must be a positive integer"),
    (lambda: L.UpSampling2D(0), "size must be a positive integer"),
    (lambda: L.UpSampling2D(2, interpolation="bilinear"), "interpolation must be 'nearest'"),
])
def test_bad_settings_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_ranks_are_refused():
    with pytest.raises(ValueError, match="UpSampling2D.*4-D input"):
        models.Sequential([L.Input((4,)), L.UpSampling2D(2)])
    with pytest.raises(ValueError, match="Conv2DTranspose.*4-D input"):
        models.Sequential([L.Input((4,)), L.Conv2DTranspose(2, 2)])
