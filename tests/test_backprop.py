"""core/backprop.py: the explorer's network, the chain of tensors and gradients, a shared kernel weight's gradient as
a sum over output pixels, central differences for any model, one SGD step by hand, and pooling's routes."""
import numpy as np
import pytest

from core import backprop, layers as L, losses, metrics, models, optimizers, pooling
from gradcheck import numeric_grad, to64


def digits(n=3, seed=0):
    """Uint8 28x28 stand-ins for digits: a bright blob at a random place on black."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.uint8)
    for k in range(n):
        r, c = rng.integers(4, 20, 2)
        out[k, r:r + 8, c:c + 5] = rng.integers(120, 256, (8, 5))
    return out


@pytest.fixture
def explorer():
    """The explorer in float64, off every kink: on a black background with zero biases the conv's outputs sit
    exactly on ReLU's kink and tie in max pooling's windows, where a central difference averages two slopes; a
    faint noise and nonzero biases move them off."""
    model = backprop.explorer_model()
    x = backprop.shrink_digit(digits(3)).astype(np.float64)
    x += 0.01 * np.random.default_rng(5).random(x.shape)
    params = to64(model.init(seed=1))
    params["conv"]["bias"] = np.array([0.05, -0.03])
    return model, params, x, np.array([0, 2, 1])


def small_conv_model():
    """Strided, zero-padded, fused-ReLU convolution on 2 channels: the cases the explorer's conv does not have."""
    return models.Sequential([L.Input((7, 7, 2)), L.Conv2D(3, 3, strides=2, padding="same", activation="relu",
                                                           name="conv"), L.Flatten(), L.Dense(4, name="out")])


def test_the_explorer_network_is_small_enough_to_read_whole():
    model = backprop.explorer_model()
    assert [l.name for l in model.layers] == ["conv", "relu", "pool", "flatten", "dense"]
    assert [tuple(l.output_shape) for l in model.layers] == [(6, 6, 2), (6, 6, 2), (3, 3, 2), (18,), (3,)]
    assert model.count_params() == 2 * (3 * 3 + 1) + 3 * (18 + 1) == 77
    assert backprop.explorer_model("average").layers[2].kind == "AveragePooling2D"
    with pytest.raises(ValueError, match="pooling must be 'max' or 'average'"):
        backprop.explorer_model("median")


def test_shrink_digit_averages_4x4_blocks_of_lenets_32x32_input():
    images = digits(2)
    small = backprop.shrink_digit(images)
    padded = np.pad(images / 255.0, ((0, 0), (2, 2), (2, 2)))
    expected = padded.reshape(2, 8, 4, 8, 4).mean(axis=(2, 4))
    assert small.shape == (2, 8, 8, 1) and small.dtype == np.float32
    np.testing.assert_allclose(small[..., 0], expected, rtol=1e-6)


def test_chain_gives_every_tensor_and_gradient_and_the_same_grads_as_value_and_grad(explorer):
    model, params, x, y = explorer
    c = backprop.chain(model, params, x, y)
    value, grads = model.value_and_grad(params, x, y)
    assert c["loss"] == pytest.approx(float(value), rel=1e-12)
    assert c["order"] == ["input", "conv", "relu", "pool", "flatten", "dense"]
    for name in c["order"]:
        assert c["gradients"][name].shape == c["outputs"][name].shape, name
    for name, ws in grads.items():
        for w, g in ws.items():
            np.testing.assert_allclose(c["grads"][name][w], g, rtol=1e-12, atol=1e-15)
    # the last gradient is the loss's own: (softmax - one-hot) / N
    probs = metrics.softmax(c["outputs"]["dense"])
    np.testing.assert_allclose(c["gradients"]["dense"], (probs - np.eye(3)[y]) / 3, rtol=1e-10, atol=1e-15)
    # dL/dx, the chain's far end, against central differences on the input pixels
    f = lambda: float(losses.categorical_crossentropy(model.apply(params, x), y)[0])
    np.testing.assert_allclose(c["gradients"]["input"], numeric_grad(f, x), rtol=1e-5, atol=1e-9)


def test_relu_stage_passes_the_gradient_only_where_the_conv_output_was_positive(explorer):
    model, params, x, y = explorer
    c = backprop.chain(model, params, x, y)
    positive = c["outputs"]["conv"] > 0
    np.testing.assert_array_equal(c["gradients"]["conv"][~positive], 0)
    np.testing.assert_array_equal(c["gradients"]["conv"][positive], c["gradients"]["relu"][positive])


@pytest.mark.parametrize("index", [(0, 0, 0, 0), (1, 2, 0, 1), (2, 2, 0, 0), (2, 0, 0, 1)])
def test_a_kernel_weights_gradient_is_its_sum_over_output_pixels(explorer, index):
    model, params, x, y = explorer
    c = backprop.chain(model, params, x, y)
    t = backprop.kernel_terms(model, c, "conv", index)
    di, dj, _, f = index
    assert t["terms"].shape == (3, 6, 6)
    np.testing.assert_array_equal(t["inputs"], x[:, di:di + 6, dj:dj + 6, 0])          # the shifted input block
    np.testing.assert_array_equal(t["upstream"], c["gradients"]["conv"][..., f])     # no activation in the layer
    np.testing.assert_allclose(t["terms"], t["inputs"] * t["upstream"])
    assert t["total"] == pytest.approx(float(c["grads"]["conv"]["kernel"][index]), rel=1e-10, abs=1e-15)
    assert list(t["rows"]) == list(range(di, di + 6)) and list(t["cols"]) == list(range(dj, dj + 6))


def test_kernel_terms_with_stride_padding_and_a_fused_relu_still_sum_to_the_layers_gradient():
    model = small_conv_model()
    params = to64(model.init(seed=3))
    x = np.random.default_rng(0).normal(size=(2, 7, 7, 2))
    c = backprop.chain(model, params, x, np.array([1, 3]))
    kernel_grad = c["grads"]["conv"]["kernel"]
    for index in np.ndindex(kernel_grad.shape):
        t = backprop.kernel_terms(model, c, "conv", index)
        assert t["total"] == pytest.approx(float(kernel_grad[index]), rel=1e-10, abs=1e-14)
    t = backprop.kernel_terms(model, c, "conv", (0, 0, 1, 2))
    # "same" pads one row/col before: the weight at (0, 0) reads row -1 (zero padding) for output row 0
    assert list(t["rows"]) == [-1, 1, 3, 5] and list(t["cols"]) == [-1, 1, 3, 5]
    np.testing.assert_array_equal(t["inputs"][:, 0, :], 0)
    np.testing.assert_array_equal(t["inputs"][:, 1:, 1:], x[:, 1:6:2, 1:6:2, 1])
    a = c["outputs"]["conv"][..., 2]
    np.testing.assert_array_equal(t["upstream"][a <= 0], 0)                          # ReLU's share applied


def test_kernel_terms_refuses_what_is_not_a_conv_weight(explorer):
    model, params, x, y = explorer
    c = backprop.chain(model, params, x, y)
    with pytest.raises(ValueError, match="'dense' is not a Conv2D layer .* Conv2D layers: conv"):
        backprop.kernel_terms(model, c, "dense", (0, 0, 0, 0))
    for bad in [(3, 0, 0, 0), (0, 0, 0), (0, 0, 0, -1), (0.5, 0, 0, 0), "0000"]:
        with pytest.raises(ValueError, match="index must be 4 whole numbers within the shape"):
            backprop.kernel_terms(model, c, "conv", bad)


@pytest.mark.parametrize("layer,weight,index", [("conv", "kernel", (1, 1, 0, 0)), ("conv", "bias", (1,)),
                                                ("dense", "kernel", (7, 2)), ("dense", "bias", (0,))])
def test_numerical_grad_agrees_with_backprop_on_the_explorer(explorer, layer, weight, index):
    model, params, x, y = explorer
    check = backprop.numerical_grad(model, params, x, y, layer, weight, index)
    _, grads = model.value_and_grad(params, x, y)
    assert check["backprop"] == pytest.approx(float(grads[layer][weight][index]), rel=1e-12, abs=1e-15)
    assert check["relative_error"] < 1e-6
    assert check["numerical"] == pytest.approx(check["backprop"], rel=1e-5, abs=1e-9)


@pytest.mark.parametrize("layer,index", [("C1", (2, 2, 0, 3)), ("C3", (0, 4, 5, 15)), ("C5", (2, 2, 7, 100)),
                                         ("F6", (50, 3)), ("OUTPUT", (83, 9))])
def test_numerical_grad_on_lenet5_float32_params_is_float64_and_leaves_them_intact(layer, index):
    model = models.lenet5()
    params = model.init(seed=0)
    before = {k: {w: a.copy() for w, a in v.items()} for k, v in params.items()}
    x = backprop.shrink_digit(digits(4)).repeat(4, axis=1).repeat(4, axis=2)        # (4, 32, 32, 1) float32
    check = backprop.numerical_grad(model, params, x, np.array([3, 1, 4, 1]), layer, "kernel", index)
    assert check["relative_error"] < 1e-5, check
    for name, ws in params.items():
        for w, a in ws.items():
            assert a.dtype == np.float32
            np.testing.assert_array_equal(a, before[name][w])


def test_with_kernel_regularizers_the_check_and_the_step_count_the_penalty():
    """L2 on the kernels: the loss the model minimises includes l2 * sum(w^2), its gradient 2 * l2 * w."""
    model = models.Sequential([L.Input((8, 8, 1)), L.Conv2D(2, 3, kernel_regularizer={"l2": 0.05}, name="conv"),
                               L.Flatten(), L.Dense(3, kernel_regularizer={"l2": 0.05}, name="dense")])
    params = to64(model.init(seed=2))
    x = backprop.shrink_digit(digits(2)).astype(np.float64) + 0.01
    y = np.array([2, 0])
    c = backprop.chain(model, params, x, y)
    plain = float(losses.categorical_crossentropy(model.apply(params, x), y)[0])
    penalty = 0.05 * sum(float((params[k]["kernel"] ** 2).sum()) for k in ("conv", "dense"))
    assert c["loss"] == pytest.approx(plain + penalty, rel=1e-12)
    for index in [(0, 0, 0, 1), (2, 1, 0, 0)]:
        check = backprop.numerical_grad(model, params, x, y, "conv", "kernel", index)
        assert check["relative_error"] < 1e-6, check
    step = backprop.sgd_step(model, params, x, y, 0.1)
    assert step["loss_after"] == pytest.approx(float(model.value_and_grad(step["params"], x, y)[0]), rel=1e-12)


def test_numerical_grad_catches_a_wrong_backward_pass(explorer, monkeypatch):
    """The check is only worth something if it can fail: a Dense backward that doubles its kernel gradient."""
    model, params, x, y = explorer
    dense = model.layers[-1]
    right = type(dense).backward

    def doubled(self, params, dout, cache, need_dx=True):
        dx, grads = right(self, params, dout, cache, need_dx)
        return dx, {**grads, "kernel": 2 * grads["kernel"]}

    _, grads = model.value_and_grad(params, x, y)
    index = np.unravel_index(np.abs(grads["dense"]["kernel"]).argmax(), (18, 3))
    monkeypatch.setattr(type(dense), "backward", doubled)
    check = backprop.numerical_grad(model, params, x, y, "dense", "kernel", index)
    assert check["relative_error"] == pytest.approx(1 / 3, rel=1e-4)        # |2g - g| / (|2g| + |g|)


def test_numerical_grad_says_what_is_wrong(explorer):
    model, params, x, y = explorer
    with pytest.raises(ValueError, match="layer 'pool' has no weights"):
        backprop.numerical_grad(model, params, x, y, "pool", "kernel", (0,))
    with pytest.raises(ValueError, match="layer 'conv' has no weight 'gamma'"):
        backprop.numerical_grad(model, params, x, y, "conv", "gamma", (0,))
    with pytest.raises(ValueError, match=r"index must be 4 whole numbers within the shape \(3, 3, 1, 2\)"):
        backprop.numerical_grad(model, params, x, y, "conv", "kernel", (3, 3, 0, 0))
    for eps in (0, -1e-4, float("nan"), "1e-4", True):
        with pytest.raises(ValueError, match="eps must be a finite number > 0"):
            backprop.numerical_grad(model, params, x, y, "conv", "kernel", (0, 0, 0, 0), eps=eps)


def test_numerical_grad_refuses_a_frozen_layer():
    model = models.Sequential([L.Input((8, 8, 1)), L.Conv2D(2, 3, trainable=False, name="conv"), L.Flatten(),
                               L.Dense(3, name="dense")])
    x = backprop.shrink_digit(digits(2)).astype(np.float64)
    with pytest.raises(ValueError, match="'conv' is frozen"):
        backprop.numerical_grad(model, to64(model.init(0)), x, np.array([0, 1]), "conv", "kernel", (0, 0, 0, 0))


def test_one_sgd_step_by_hand_is_w_minus_lr_times_grad_and_lowers_the_loss(explorer):
    model, params, x, y = explorer
    step = backprop.sgd_step(model, params, x, y, learning_rate=0.1)
    _, grads = model.value_and_grad(params, x, y)
    for name, ws in params.items():
        for w, a in ws.items():
            np.testing.assert_allclose(step["params"][name][w], a - 0.1 * grads[name][w], rtol=1e-12)
    assert step["loss_after"] == pytest.approx(float(model.evaluate(step["params"], x, y)[0]), rel=1e-12)
    assert step["loss_after"] < step["loss_before"]
    for lr in (0, -1, float("nan"), None):
        with pytest.raises(ValueError, match="learning_rate"):
            backprop.sgd_step(model, params, x, y, learning_rate=lr)


def test_pool_routes_max_to_the_winner_and_spreads_average_evenly():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(1, 6, 6, 2))
    dout = rng.normal(size=(1, 3, 3, 2))
    routes = backprop.pool_routes(x, dout, 2)
    out, cache = pooling.max_pool_forward(x, 2)
    np.testing.assert_array_equal(routes["max"]["output"], out)
    np.testing.assert_array_equal(routes["max"]["dx"], pooling.max_pool_backward(dout, cache))
    rows, cols = pooling.max_pool_argmax(x, 2)
    winners = np.zeros_like(x, bool)
    for i, j, c in np.ndindex(3, 3, 2):
        winners[0, rows[0, i, j, c], cols[0, i, j, c], c] = True
    assert np.all(routes["max"]["dx"][~winners] == 0)                             # one pixel per window
    np.testing.assert_allclose(routes["average"]["dx"], np.repeat(np.repeat(dout, 2, 1), 2, 2) / 4)
    for kind in ("max", "average"):                                               # nothing lost or made up
        assert routes[kind]["dx"].sum() == pytest.approx(dout.sum())
    with pytest.raises(ValueError, match=r"dout has shape \(1, 2, 2, 2\), the pooled map \(1, 3, 3, 2\)"):
        backprop.pool_routes(x, dout[:, :2, :2], 2)


def test_update_taken_is_the_step_each_weight_moved(explorer):
    model, params, x, y = explorer
    opt = optimizers.Adam(0.01)
    _, grads = model.value_and_grad(params, x, y)
    after, state = opt.update(grads, opt.init(params), params)
    taken = backprop.update_taken(params, after)
    np.testing.assert_allclose(taken["conv"]["kernel"], params["conv"]["kernel"] - after["conv"]["kernel"])
    # Adam's first step is lr * g / (|g| + eps): about lr in size wherever the gradient is not tiny
    g = grads["conv"]["kernel"]
    big = np.abs(g) > 1e-4
    np.testing.assert_allclose(np.abs(taken["conv"]["kernel"][big]), 0.01, rtol=1e-2)
