"""Each optimizer against optax on identical gradients for 12 steps, with a constant rate and with a cosine
schedule, with and without decoupled weight decay (optax and jax are test-only dependencies); Keras' default
settings by their first step; the same updates under jax.jit; by name."""
import numpy as np
import optax
import pytest

from core import models, optimizers

CASES = [
    (lambda: optimizers.SGD(0.1), lambda: optax.sgd(0.1)),
    (lambda: optimizers.get("momentum", learning_rate=0.05), lambda: optax.sgd(0.05, momentum=0.9)),
    (lambda: optimizers.get("nesterov", learning_rate=0.05, momentum=0.8),
     lambda: optax.sgd(0.05, momentum=0.8, nesterov=True)),
    (lambda: optimizers.SGD(0.05, momentum=0.9), lambda: optax.sgd(0.05, momentum=0.9)),
    (lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True), lambda: optax.sgd(0.05, momentum=0.8, nesterov=True)),
    (lambda: optimizers.Adagrad(0.1), lambda: optax.adagrad(0.1, initial_accumulator_value=0.1, eps=1e-7)),
    (lambda: optimizers.RMSprop(0.01), lambda: optax.rmsprop(0.01, decay=0.9, eps=1e-7)),
    (lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5), lambda: optax.rmsprop(0.01, decay=0.8, eps=1e-7, momentum=0.5)),
    (lambda: optimizers.Adam(0.01), lambda: optax.adam(0.01, b1=0.9, b2=0.999, eps=1e-7)),
    (lambda: optimizers.Adam(0.003, beta_1=0.8, beta_2=0.99), lambda: optax.adam(0.003, b1=0.8, b2=0.99, eps=1e-7)),
]


# Decoupled weight decay in optax's terms: the decay term wd * p joins the update after the optimizer's own
# scaling and before the learning rate (optax.adamw's order), so it never enters momentum or the accumulators.
def decoupled(scaling, lr, wd):
    return optax.chain(scaling, optax.add_decayed_weights(wd), optax.scale(-lr))


DECAYED = [
    (lambda: optimizers.SGD(0.1, weight_decay=0.05),
     lambda: optax.chain(optax.add_decayed_weights(0.05), optax.sgd(0.1))),
    (lambda: optimizers.get("momentum", learning_rate=0.05, weight_decay=0.1),
     lambda: decoupled(optax.trace(decay=0.9), 0.05, 0.1)),
    (lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
     lambda: decoupled(optax.trace(decay=0.8, nesterov=True), 0.05, 0.1)),
    (lambda: optimizers.Adagrad(0.1, weight_decay=0.2),
     lambda: decoupled(optax.scale_by_rss(initial_accumulator_value=0.1, eps=1e-7), 0.1, 0.2)),
    (lambda: optimizers.RMSprop(0.01, weight_decay=0.3),
     lambda: decoupled(optax.scale_by_rms(decay=0.9, eps=1e-7), 0.01, 0.3)),
    # RMSprop's momentum holds lr-scaled steps (Keras, optax); the decay stays outside it: lr * wd * p
    (lambda: optimizers.RMSprop(0.01, momentum=0.5, weight_decay=0.3),
     lambda: optax.chain(optax.scale_by_rms(decay=0.9, eps=1e-7), optax.scale(0.01), optax.trace(decay=0.5),
                         optax.add_decayed_weights(0.01 * 0.3), optax.scale(-1.0))),
    (lambda: optimizers.Adam(0.01, weight_decay=0.1), lambda: optax.adamw(0.01, eps=1e-7, weight_decay=0.1)),
    (lambda: optimizers.AdamW(), lambda: optax.adamw(0.001, b1=0.9, b2=0.999, eps=1e-7, weight_decay=0.004)),
    (lambda: optimizers.get("adamw", learning_rate=0.003, weight_decay=0.05),
     lambda: optax.adamw(0.003, eps=1e-7, weight_decay=0.05)),
]


def cosine(peak):
    """The same schedule from both libraries: cosine from peak to peak / 10 over 8 steps (12 steps run past it)."""
    return optimizers.cosine_decay(peak, 8), optax.cosine_decay_schedule(peak, 8, alpha=0.1)


SCHEDULED = [
    (lambda: optimizers.SGD(cosine(0.1)[0]), lambda: optax.sgd(cosine(0.1)[1])),
    (lambda: optimizers.SGD(cosine(0.05)[0], momentum=0.9, nesterov=True),
     lambda: optax.sgd(cosine(0.05)[1], momentum=0.9, nesterov=True)),
    (lambda: optimizers.Adagrad(cosine(0.1)[0]),
     lambda: optax.adagrad(cosine(0.1)[1], initial_accumulator_value=0.1, eps=1e-7)),
    (lambda: optimizers.RMSprop(cosine(0.01)[0], momentum=0.5),
     lambda: optax.rmsprop(cosine(0.01)[1], decay=0.9, eps=1e-7, momentum=0.5)),
    (lambda: optimizers.Adam(cosine(0.01)[0]), lambda: optax.adam(cosine(0.01)[1], b1=0.9, b2=0.999, eps=1e-7)),
    # the decay follows the schedule's rate, as in Keras and optax.adamw
    (lambda: optimizers.Adam(cosine(0.01)[0], weight_decay=0.1),
     lambda: optax.adamw(cosine(0.01)[1], eps=1e-7, weight_decay=0.1)),
]


@pytest.mark.parametrize("ours,theirs", CASES + DECAYED + SCHEDULED)
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


# Keras' update rules with Keras' default settings, written out independently of core/optimizers.py: the first step
# from a fresh state on a gradient G (eps = 1e-7 throughout). A changed default or rule changes the step.
G = np.array([0.5, -0.25, 2.0, -4.0])
KERAS_FIRST_STEP = {
    "sgd": -0.01 * G,                                                   # lr 0.01
    "adagrad": -0.001 * G / np.sqrt(0.1 + G ** 2 + 1e-7),               # lr 0.001, accumulator starts at 0.1
    "rmsprop": -0.001 * G / np.sqrt(0.1 * G ** 2 + 1e-7),               # lr 0.001, rho 0.9
    # lr 0.001; after bias correction m_hat = g and v_hat = g^2. eps goes on sqrt(v_hat) as in the paper, optax and
    # PyTorch (Keras puts it on sqrt(v): here a relative difference of ~1e-5, which rtol 1e-9 would catch)
    "adam": -0.001 * G / (np.abs(G) + 1e-7),
}


@pytest.mark.parametrize("name", sorted(KERAS_FIRST_STEP))
def test_default_settings_take_keras_first_step(name):
    params = {"w": {"kernel": np.array([1.0, -2.0, 0.5, 3.0])}}
    opt = optimizers.get(name)
    new, _ = opt.update({"w": {"kernel": G}}, opt.init(params), params)
    np.testing.assert_allclose(new["w"]["kernel"] - params["w"]["kernel"], KERAS_FIRST_STEP[name], rtol=1e-9)


@pytest.mark.parametrize("name", sorted(KERAS_FIRST_STEP))
def test_weight_decay_takes_keras_first_step_on_kernels_and_biases_alike(name):
    """Keras 3: before the step every variable (bias too, unless excluded) becomes p - p * wd * lr."""
    params = {"w": {"kernel": np.array([1.0, -2.0, 0.5, 3.0]), "bias": np.array([4.0, -1.0, 0.0, 2.0])}}
    opt = optimizers.get(name, weight_decay=0.5)
    lr = opt.learning_rate
    new, _ = opt.update({"w": {"kernel": G, "bias": G}}, opt.init(params), params)
    for w in ("kernel", "bias"):
        p = params["w"][w]
        np.testing.assert_allclose(new["w"][w], p - p * 0.5 * lr + KERAS_FIRST_STEP[name], rtol=1e-9)


def test_weight_decay_under_jax_jit_is_the_numpy_update():
    """The JAX mirror steps the same optimizer objects under jit (core/jax/compiled.py): the decay must trace."""
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(1)
    params = {"c": {"kernel": rng.standard_normal((3, 3, 1, 2)).astype(np.float32),
                    "bias": rng.standard_normal(2).astype(np.float32)}}
    for opt in (optimizers.AdamW(0.01, weight_decay=0.1), optimizers.SGD(0.1, momentum=0.9, weight_decay=0.2),
                optimizers.RMSprop(optimizers.cosine_decay(0.01, 5), weight_decay=0.3)):
        step = jax.jit(opt.update)
        p, state = params, opt.init(params)
        jp, jstate = params, opt.init(params)
        for _ in range(5):
            grads = optimizers.tree_map(lambda a: rng.standard_normal(a.shape).astype(np.float32), params)
            p, state = opt.update(grads, state, p)
            jp, jstate = step(grads, jstate, jp)
        for w in ("kernel", "bias"):
            np.testing.assert_allclose(np.asarray(jp["c"][w]), p["c"][w], rtol=1e-5, atol=1e-6,
                                       err_msg=type(opt).__name__)


def test_zero_gradients_only_decay():
    """With no gradient, decoupled decay alone shrinks every weight geometrically by (1 - lr * wd) per step."""
    params = {"d": {"kernel": np.full(3, 2.0), "bias": np.full(2, -1.0)}}
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    p, state = params, opt.init(params)
    for _ in range(3):
        p, state = opt.update(optimizers.tree_map(np.zeros_like, params), state, p)
    np.testing.assert_allclose(p["d"]["kernel"], 2.0 * 0.95 ** 3)
    np.testing.assert_allclose(p["d"]["bias"], -1.0 * 0.95 ** 3)


def test_momentum_default_and_nesterov_by_name_take_keras_second_step():
    """SGD with momentum 0.9 (Keras: v = m*v - lr*g; w += v; Nesterov: w += m*v - lr*g) on g twice."""
    params = {"w": {"kernel": np.zeros(4)}}
    for name, nesterov in (("momentum", False), ("nesterov", True)):
        opt = optimizers.get(name, learning_rate=0.1)
        p, state = params, opt.init(params)
        v = w = np.zeros(4)
        for _ in range(2):
            p, state = opt.update({"w": {"kernel": G}}, state, p)
            v = 0.9 * v - 0.1 * G
            w = w + (0.9 * v - 0.1 * G if nesterov else v)
        np.testing.assert_allclose(p["w"]["kernel"], w, rtol=1e-12, err_msg=name)


def test_cosine_decay_runs_from_the_peak_to_a_tenth_of_it():
    schedule = optimizers.cosine_decay(1e-3, total_steps=10)
    rates = [schedule(t) for t in range(12)]
    assert rates[0] == pytest.approx(1e-3, rel=1e-12)                # the first update uses the peak
    assert rates[5] == pytest.approx((1e-3 + 1e-4) / 2)              # halfway: the mean of peak and floor
    assert all(a > b for a, b in zip(rates[:10], rates[1:11]))
    assert rates[10] == rates[11] == pytest.approx(1e-4)               # from total_steps on: the floor
    assert all(type(r) is float for r in rates)                       # a NumPy scalar would promote float32 params
    assert optimizers.cosine_decay(2.0, 4, floor_ratio=0.0)(4) == pytest.approx(0.0, abs=1e-15)


def test_a_schedule_counts_steps_in_the_state_and_a_constant_rate_keeps_none():
    params = {"d": {"kernel": np.ones(3, np.float32)}}
    grads = {"d": {"kernel": np.ones(3, np.float32)}}
    assert optimizers.SGD(0.1).init(params) == {}
    opt = optimizers.SGD(optimizers.cosine_decay(0.1, 4, floor_ratio=0.0))
    state = opt.init(params)
    steps = []
    for _ in range(5):
        new, state = opt.update(grads, state, params)
        steps.append(float(params["d"]["kernel"][0] - new["d"]["kernel"][0]))
        assert new["d"]["kernel"].dtype == np.float32
    assert int(state["count"]) == 5
    want = [0.1 * (1 + np.cos(np.pi * t / 4)) / 2 for t in range(5)]          # 0.1, ..., 0.05, ..., 0.0
    np.testing.assert_allclose(steps, want, atol=1e-7)                         # float32: 1 - step rounds


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


@pytest.mark.parametrize("bad, why", [
    (lambda: optimizers.SGD(0), "SGD: learning_rate must be a finite number > 0, got 0"),
    (lambda: optimizers.Adam(-1), "Adam: learning_rate must be a finite number > 0, got -1"),
    (lambda: optimizers.Adam(float("inf")), "Adam: learning_rate must be a finite number > 0, got inf"),
    (lambda: optimizers.SGD("0.1"), "SGD: learning_rate must be a number, got '0.1'"),
    (lambda: optimizers.SGD(0.1, momentum=1.5), r"SGD: momentum must be a finite number in \[0, 1\), got 1.5"),
    (lambda: optimizers.RMSprop(momentum=1.5), "RMSprop: momentum must be"),
    (lambda: optimizers.Adam(beta_1=1.0), "Adam: beta_1 must be"),
    (lambda: optimizers.Adam(beta_2=1.0), "Adam: beta_2 must be"),
    (lambda: optimizers.get("adamx"), "unknown optimizer 'adamx'; choose one of sgd, momentum, nesterov"),
    (lambda: optimizers.Adam(weight_decay=-0.1), "Adam: weight_decay must be a finite number >= 0, got -0.1"),
    (lambda: optimizers.SGD(weight_decay=float("nan")), "SGD: weight_decay must be a finite number >= 0"),
    (lambda: optimizers.AdamW(weight_decay="0.01"), "Adam: weight_decay must be a number, got '0.01'"),
    (lambda: optimizers.SGD(0.5, weight_decay=2.0), r"SGD: learning_rate x weight_decay must be < 1, got 0.5 x 2"),
    (lambda: optimizers.SGD(optimizers.cosine_decay(0.5, 10), weight_decay=2.0), "SGD: learning_rate x weight_decay"),
    (lambda: optimizers.SGD(0.1, nesterov="no"), "SGD: nesterov must be True or False, got 'no'"),
    (lambda: optimizers.Adam(lambda step: float("nan")), r"Adam: learning_rate \(the schedule's rate at step 0\)"),
    (lambda: optimizers.Adam(len), "Adam: learning_rate is callable but not a schedule"),
    (lambda: optimizers.get(None), "unknown optimizer None"),
    (lambda: optimizers.get("adam", momentum=0.9),
     "optimizer 'adam' has no setting 'momentum'; it takes learning_rate"),
    (lambda: optimizers.get("sgd", rho=0.9), "optimizer 'sgd' has no setting 'rho'"),
    (lambda: optimizers.get(optimizers.Adam(), learning_rate=0.1),
     "settings .*'learning_rate'.* with an optimizer object"),
    (lambda: optimizers.cosine_decay(0.1, 0), "cosine_decay: total_steps must be a whole number >= 1, got 0"),
    (lambda: optimizers.cosine_decay(-0.1, 10), "cosine_decay: peak must be a finite number > 0"),
    (lambda: optimizers.cosine_decay(0.1, 10, floor_ratio=2), "cosine_decay: floor_ratio must be a number in"),
])
def test_bad_settings_are_refused_by_name(bad, why):
    with pytest.raises(ValueError, match=why):
        bad()


def test_get_is_case_blind_and_passes_objects_through():
    opt = optimizers.Adam(0.02)
    assert optimizers.get(opt) is opt
    assert isinstance(optimizers.get("RMSprop", rho=0.8), optimizers.RMSprop)


@pytest.mark.parametrize("name,kwargs,keys", [
    ("adam", {}, ("m", "v")), ("rmsprop", {}, ("average",)), ("rmsprop", {"momentum": 0.9}, ("average", "momentum")),
    ("momentum", {}, ("velocity",)),
])
def test_a_decaying_state_never_holds_subnormal_floats(name, kwargs, keys):
    # A weight whose gradient stays 0 (a dead ReLU unit) decays its state towards 0 through the subnormal floats,
    # where x86 arithmetic is about ten times slower; the step sets them to 0 instead.
    opt = optimizers.get(name, learning_rate=1e-3, **kwargs)
    params = {"d": {"w": np.ones(4, np.float32)}}
    state = opt.init(params)
    tiny = np.finfo(np.float32).tiny
    for key in keys:
        state[key]["d"]["w"][:] = [tiny * 1.0001, -tiny * 1.0001, 1e-3, 0.0]   # one decay from subnormal
    old = {key: state[key]["d"]["w"] for key in keys}                    # the arrays themselves, not copies
    _, state = opt.update({"d": {"w": np.zeros(4, np.float32)}}, state, params)
    for key in keys:
        got = state[key]["d"]["w"]
        assert not ((got != 0) & (np.abs(got) < tiny)).any(), (key, got)
        assert got[2] != 0 and got[3] == 0 and (got[:2] == 0).all(), (key, got)
        assert old[key][0] == np.float32(tiny * 1.0001)                # the step wrote new arrays, not the old
