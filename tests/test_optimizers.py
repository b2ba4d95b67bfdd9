"""Each optimizer against optax on identical gradients for 12 steps (optax and jax are test-only dependencies)."""
import numpy as np
import optax
import pytest

from core import models, optimizers

CASES = [
    (lambda: optimizers.SGD(0.1), lambda: optax.sgd(0.1)),
    (lambda: optimizers.SGD(0.05, momentum=0.9), lambda: optax.sgd(0.05, momentum=0.9)),
    (lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True), lambda: optax.sgd(0.05, momentum=0.8, nesterov=True)),
    (lambda: optimizers.Adagrad(0.1), lambda: optax.adagrad(0.1, initial_accumulator_value=0.1, eps=1e-7)),
    (lambda: optimizers.RMSprop(0.01), lambda: optax.rmsprop(0.01, decay=0.9, eps=1e-7)),
    (lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5), lambda: optax.rmsprop(0.01, decay=0.8, eps=1e-7, momentum=0.5)),
    (lambda: optimizers.Adam(0.01), lambda: optax.adam(0.01, b1=0.9, b2=0.999, eps=1e-7)),
    (lambda: optimizers.Adam(0.003, beta_1=0.8, beta_2=0.99), lambda: optax.adam(0.003, b1=0.8, b2=0.99, eps=1e-7)),
]


@pytest.mark.parametrize("ours,theirs", CASES)
def test_matches_optax(ours, theirs):
    rng = np.random.default_rng(0)
    # float32 throughout: JAX (and so optax) computes in float32 by default
    params = {"c": {"kernel": rng.standard_normal((3, 3, 2, 4)), "bias": rng.standard_normal(4)},
              "d": {"kernel": rng.standard_normal((5, 2))}}
    params = optimizers.tree_map(lambda p: p.astype(np.float32), params)
    opt, ref = ours(), theirs()
    state, ref_state = opt.init(params), ref.init(params)
    ref_params = params
    for _ in range(12):
        grads = optimizers.tree_map(lambda p: rng.standard_normal(p.shape).astype(np.float32), params)
        params, state = opt.update(grads, state, params)
        updates, ref_state = ref.update(grads, ref_state, ref_params)
        ref_params = optax.apply_updates(ref_params, updates)
    for name in params:
        for w in params[name]:
            np.testing.assert_allclose(params[name][w], np.asarray(ref_params[name][w]), rtol=1e-5, atol=1e-6)


def test_keras_defaults():
    assert optimizers.SGD().learning_rate == 0.01
    assert optimizers.Adam().learning_rate == 0.001 and optimizers.Adam().epsilon == 1e-7
    assert optimizers.RMSprop().rho == 0.9
    assert optimizers.Adagrad().initial_accumulator_value == 0.1


def test_float32_params_stay_float32():
    params = models.lenet5().init(0)
    for opt in (optimizers.SGD(momentum=0.9), optimizers.Adagrad(), optimizers.RMSprop(momentum=0.9), optimizers.Adam()):
        grads = optimizers.tree_map(lambda p: np.ones_like(p), params)
        new, _ = opt.update(grads, opt.init(params), params)
        assert all(a.dtype == np.float32 for layer in new.values() for a in layer.values()), type(opt).__name__


def test_state_is_plain_and_update_is_pure():
    params = {"d": {"kernel": np.ones((2, 2))}}
    opt = optimizers.Adam()
    state = opt.init(params)
    new, new_state = opt.update({"d": {"kernel": np.ones((2, 2))}}, state, params)
    assert int(state["count"]) == 0 and int(new_state["count"]) == 1   # the old state is not mutated
    np.testing.assert_array_equal(params["d"]["kernel"], 1.0)
    assert not np.allclose(new["d"]["kernel"], 1.0)


@pytest.mark.parametrize("bad", [lambda: optimizers.SGD(0), lambda: optimizers.SGD(0.1, momentum=1.5),
                                 lambda: optimizers.get("adamw"), lambda: optimizers.Adam(-1)])
def test_bad_hyperparameters(bad):
    with pytest.raises(ValueError):
        bad()
