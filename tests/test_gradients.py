"""Finite-difference gradient checks in float64: every layer, every loss, a Functional model and a whole LeNet-5."""
import numpy as np
import pytest

from core import layers as L
from core import losses, models
from gradcheck import assert_close, check_model, numeric_grad, to64


def net(*stack, shape=(7, 7, 2)):
    return models.Sequential([L.Input(shape), *stack])


RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 7, 7, 2))
Y = np.array([0, 2, 1])


@pytest.mark.parametrize("stride,padding", [(1, "valid"), (2, "same"), (2, 1), (3, "valid")])
@pytest.mark.parametrize("activation", [None, "tanh", "sigmoid", "relu"])
def test_conv2d_gradients(stride, padding, activation):
    # the first conv's input gradient is skipped by the model; a second conv checks it
    model = net(L.Conv2D(3, 3, strides=stride, padding=padding, activation=activation),
                L.Conv2D(2, 2, padding="same", activation="tanh"), L.Flatten(), L.Dense(3))
    check_model(model, X, Y)


@pytest.mark.parametrize("pool", [L.MaxPooling2D, L.AveragePooling2D])
@pytest.mark.parametrize("size,stride,padding", [(2, None, "valid"), (3, None, "valid"), (3, 2, "same"), (2, 1, "valid"),
                                                 (3, 2, "valid")])
def test_pooling_gradients(pool, size, stride, padding):
    model = net(L.Conv2D(2, 2, activation="tanh"), pool(size, strides=stride, padding=padding), L.Flatten(), L.Dense(3))
    check_model(model, X, Y)


def test_dense_softmax_activation_and_activation_layer():
    model = net(L.Flatten(), L.Dense(5, activation="sigmoid"), L.Activation("tanh"), L.Dense(3, activation="softmax"),
                shape=(2, 2, 2))
    check_model(model, X[:, :2, :2, :], Y, loss="mse")


def test_dropout_gradient_uses_the_same_mask():
    model = net(L.Flatten(), L.Dense(6, activation="tanh"), L.Dropout(0.5), L.Dense(3), shape=(2, 2, 2))
    # a fresh Generator with the same seed per call -> the same dropout mask in every evaluation
    params = to64(model.init(0))
    vg = lambda: model.value_and_grad(params, X[:, :2, :2, :], Y, training=True, rng=np.random.default_rng(5))
    _, grads = vg()
    for name, ws in params.items():
        for w, arr in ws.items():
            assert_close(grads[name][w], numeric_grad(lambda: float(vg()[0]), arr), what=f"{name}/{w}")


def test_dropout_is_inverted_and_off_at_test_time():
    x = np.ones((2000, 10))
    layer = L.Dropout(0.25)
    layer.build((10,))
    out, _ = layer.forward({}, x, training=True, rng=np.random.default_rng(0))
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert abs(out.mean() - 1) < 0.02
    assert layer.forward({}, x, training=False)[0] is x


def test_functional_branches_add_and_concatenate():
    inp = L.Input((6, 6, 2))
    a = L.Conv2D(3, 3, padding="same", activation="tanh")(inp)
    b = L.Conv2D(3, 1, activation="sigmoid")(inp)
    s = L.Add()([a, b])
    c = L.Conv2D(2, 3, padding="same", activation="tanh")(s)
    cat = L.Concatenate()([s, c])          # s feeds two consumers: gradients must sum
    out = L.Dense(3)(L.Flatten()(L.MaxPooling2D(2)(cat)))
    model = models.Model(inp, out)
    check_model(model, X[:, :6, :6, :], Y)


@pytest.mark.parametrize("loss,kw", [("mse", {}), ("categorical_crossentropy", {}), ("focal", {}),
                                     ("focal", {"gamma": 0.5, "alpha": 0.25}),
                                     ("focal", {"gamma": 3.0, "alpha": [0.2, 0.5, 0.3]})])
def test_loss_gradients(loss, kw):
    logits = np.random.default_rng(4).standard_normal((5, 3)) * 2
    y = np.array([0, 1, 2, 1, 0])
    fn = losses.get(loss, **kw)
    _, g = fn(logits, y)
    assert_close(g, numeric_grad(lambda: float(fn(logits, y)[0]), logits), what=loss)


def test_whole_lenet5_gradients():
    model = models.lenet5()
    x = np.random.default_rng(7).standard_normal((2, 32, 32, 1))
    check_model(model, x, np.array([3, 7]), sample=25)


def check_activation_grads(model, x, y, loss="categorical_crossentropy"):
    """backward(keep_grads=True)'s dL/d(each node's output) against central differences: each layer's output is
    nudged by a perturbation added inside its forward pass, and the loss differentiated by that perturbation."""
    params = to64(model.init(0))
    value, grads, node_grads = model.value_and_grad(params, x, y, loss=loss, return_activation_grads=True)
    v0, g0 = model.value_and_grad(params, x, y, loss=loss)
    assert value == v0                                     # the same loss and param grads as without the extra
    for name in g0:
        for w in g0[name]:
            np.testing.assert_array_equal(grads[name][w], g0[name][w])
    acts = model.apply(params, x, return_activations=True)
    assert list(node_grads) == list(acts)                  # every node, in node order, "input" first
    f = lambda: float(model.value_and_grad(params, x, y, loss=loss)[0])
    assert_close(node_grads["input"], numeric_grad(f, x), what="input")
    for layer in model.layers:
        delta = np.zeros_like(acts[layer.name])
        original = layer.forward
        layer.forward = lambda p, a, training=False, rng=None, _f=original: (
            lambda out_cache: (out_cache[0] + delta, out_cache[1]))(_f(p, a, training, rng))
        try:
            assert node_grads[layer.name].shape == delta.shape
            assert_close(node_grads[layer.name], numeric_grad(f, delta), what=f"dL/d({layer.name})")
        finally:
            del layer.forward                              # back to the class's method


def test_every_nodes_gradient_matches_finite_differences():
    # relu before max pooling would tie at zeros (no derivative there); relu before average pooling is fine
    model = net(L.Conv2D(2, 3, activation="tanh"), L.MaxPooling2D(2), L.Conv2D(3, 2, padding="same", activation="relu"),
                L.AveragePooling2D(2, padding="same"), L.Flatten(), L.Dense(4, activation="sigmoid"), L.Dense(3))
    check_activation_grads(model, X.copy(), Y)


def test_every_nodes_gradient_through_branches():
    inp = L.Input((6, 6, 2))
    a = L.Conv2D(3, 3, padding="same", activation="tanh", name="a")(inp)
    s = L.Add(name="s")([a, L.Conv2D(3, 1, name="b")(inp)])
    cat = L.Concatenate(name="cat")([s, L.Conv2D(2, 3, padding="same", name="c")(s)])   # s feeds two consumers
    model = models.Model(inp, L.Dense(3, name="out")(L.Flatten(name="flat")(cat)))
    check_activation_grads(model, X[:, :6, :6, :].copy(), Y)
