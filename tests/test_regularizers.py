"""Keras' kernel_regularizer (issue 9): L1/L2 penalties in the loss and their gradients, in the core and in the JAX
mirror, saved in the weights file's architecture."""
import numpy as np
import pytest

from core import layers as L
from core import losses, models, optimizers, regularizers, step
from gradcheck import assert_close, check_model, numeric_grad, to64

X = np.random.default_rng(0).standard_normal((3, 6, 6, 2))
Y = np.array([0, 2, 1])


def regularized(reg_conv, reg_dense, frozen=False):
    return models.Sequential([L.Input((6, 6, 2)),
                              L.Conv2D(3, 3, activation="tanh", kernel_regularizer=reg_conv, name="conv"),
                              L.Conv2DTranspose(2, 2, strides=2, kernel_regularizer=reg_conv, name="up",
                                                trainable=not frozen),
                              L.Flatten(name="flat"), L.Dense(3, kernel_regularizer=reg_dense, name="out")])


@pytest.mark.parametrize("reg", [regularizers.L2(0.3), regularizers.L1(0.2), regularizers.L1L2(0.1, 0.4)])
def test_penalty_and_gradient(reg):
    w = np.random.default_rng(1).standard_normal((3, 4))
    want = reg.l1 * np.abs(w).sum() + reg.l2 * (w ** 2).sum()
    assert reg(w) == pytest.approx(want)
    assert_close(reg.gradient(w), numeric_grad(lambda: float(reg(w)), w), what=repr(reg))


def test_the_model_adds_each_penalty_to_the_loss_and_its_gradient():
    model = regularized(regularizers.L2(0.05), regularizers.L1L2(0.01, 0.02))
    plain = regularized(None, None)
    params = to64(model.init(0))
    value, grads = model.value_and_grad(params, X, Y)
    base, base_grads = plain.value_and_grad(params, X, Y)
    penalty = (0.05 * (params["conv"]["kernel"] ** 2).sum() + 0.05 * (params["up"]["kernel"] ** 2).sum()
               + 0.01 * np.abs(params["out"]["kernel"]).sum() + 0.02 * (params["out"]["kernel"] ** 2).sum())
    assert value == pytest.approx(base + penalty, rel=1e-12)
    np.testing.assert_allclose(grads["conv"]["kernel"], base_grads["conv"]["kernel"] + 0.1 * params["conv"]["kernel"])
    np.testing.assert_array_equal(grads["conv"]["bias"], base_grads["conv"]["bias"])      # biases: no penalty
    check_model(model, X, Y)                                      # and every gradient by finite differences
    assert model.evaluate(params, X, Y, return_dict=True)["loss"] == pytest.approx(float(value))


def test_a_frozen_layer_adds_no_penalty():
    model = regularized(regularizers.L2(0.5), None, frozen=True)
    plain = regularized(None, None, frozen=True)
    params = model.init(0)
    only_conv = 0.5 * float((params["conv"]["kernel"].astype(np.float64) ** 2).sum())
    assert float(model.value_and_grad(params, X, Y)[0]) == pytest.approx(
        float(plain.value_and_grad(params, X, Y)[0]) + only_conv, rel=1e-5)


def test_train_step_and_fit_minimise_the_penalised_loss():
    model = regularized(regularizers.L2(0.5), regularizers.L2(0.5))
    params = model.init(0)
    opt = optimizers.SGD(0.1)
    _, _, batch = step.train_step(model, opt, losses.get("categorical_crossentropy"), params, opt.init(params), X, Y)
    assert batch["loss"] == pytest.approx(float(model.value_and_grad(params, X, Y, training=True)[0]), rel=1e-6)
    strong = model.fit(X, Y, epochs=30, batch_size=3, optimizer="sgd", params=params).params
    free = regularized(None, None).fit(X, Y, epochs=30, batch_size=3, optimizer="sgd", params=params).params
    for name in ("conv", "out"):      # weight decay keeps the kernels smaller than the same run without it
        assert np.abs(strong[name]["kernel"]).sum() < 0.8 * np.abs(free[name]["kernel"]).sum()


def test_the_regularizer_is_in_the_config_and_the_weights_file(tmp_path):
    model = regularized(regularizers.L2(1e-3), regularizers.L1(2e-3))
    specs = {s["name"]: s["config"] for s in model.get_config()["layers"]}
    assert specs["conv"]["kernel_regularizer"] == {"l1": 0.0, "l2": 1e-3}
    assert specs["out"]["kernel_regularizer"] == {"l1": 2e-3, "l2": 0.0}
    assert models.lenet5().get_config()["layers"][1]["config"]["kernel_regularizer"] is None
    params = model.init(0)
    models.save(tmp_path / "r.npz", model, params)
    loaded, loaded_params = models.load(tmp_path / "r.npz")
    assert loaded.get_config() == model.get_config()
    assert float(loaded.value_and_grad(loaded_params, X, Y)[0]) == float(model.value_and_grad(params, X, Y)[0])


@pytest.mark.parametrize("spec,want", [("l2", (0.0, 0.01)), ("L1", (0.01, 0.0)), ({"l2": 0.5}, (0.0, 0.5)),
                                      (regularizers.L1L2(0.1, 0.2), (0.1, 0.2))])
def test_get_takes_keras_names_configs_and_objects(spec, want):
    reg = regularizers.get(spec)
    assert (reg.l1, reg.l2) == want
    assert regularizers.get(None) is None and regularizers.get({"l1": 0, "l2": 0}) is None


@pytest.mark.parametrize("make,match", [
    (lambda: regularizers.L2(-1), "l2 must be a finite number >= 0, got -1"),
    (lambda: regularizers.L2(float("nan")), "l2 must be a finite number >= 0"),
    (lambda: regularizers.L1("0.1"), "l1 must be a finite number >= 0, got '0.1'"),
    (lambda: L.Dense(3, kernel_regularizer="l3"), "Dense: kernel_regularizer must be None"),
    (lambda: L.Conv2D(3, 3, kernel_regularizer={"l2": 0.1, "decay": 1}), "Conv2D: kernel_regularizer must be"),
    (lambda: L.Conv2D(3, 3, kernel_regularizer={"l2": float("inf")}), "Conv2D: kernel_regularizer: .*l2 must be"),
])
def test_bad_regularizers_are_refused_by_name(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_the_jax_mirror_includes_the_same_penalty():
    import core.jax as cj          # jax is a dev requirement (the parity tests import it too)
    model = regularized(regularizers.L2(0.05), regularizers.L1L2(0.01, 0.02))
    x, params = X.astype(np.float32), model.init(0)
    jm = cj.compile(model, optimizer=optimizers.Adam(0.01))
    loss, grads = jm.value_and_grad(params, x, Y)
    want_loss, want_grads = model.value_and_grad(params, x, Y)
    assert float(loss) == pytest.approx(float(want_loss), rel=1e-5)
    for name in want_grads:
        for w in want_grads[name]:
            np.testing.assert_allclose(np.asarray(grads[name][w]), want_grads[name][w], rtol=1e-4, atol=1e-6)
    assert jm.evaluate(params, x, Y)[0] == pytest.approx(model.evaluate(params, x, Y)[0], rel=1e-5)
    opt = optimizers.Adam(0.01)
    p, s, jp, js = params, opt.init(params), params, jm.init_optimizer(params)
    for _ in range(3):
        p, s, _ = step.train_step(model, opt, losses.get("categorical_crossentropy"), p, s, x, Y)
        jp, js, _ = jm.train_step(jp, js, x, Y)
    for name in p:
        np.testing.assert_allclose(np.asarray(jp[name]["kernel"]), p[name]["kernel"], rtol=1e-4, atol=1e-6)
