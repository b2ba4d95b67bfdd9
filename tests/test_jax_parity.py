"""core.jax.compile against the NumPy core: same params and batch -> same logits, losses, gradients, optimizer steps."""
import functools

import jax
import numpy as np
import pytest

import core.jax as cj
from core import layers as L
from core import models, optimizers


def branching_model():
    """Every layer kind and activation, two merges, overlapping "same" pools and int padding."""
    inputs = L.Input((12, 12, 3), name="image")
    a = L.Conv2D(4, 3, padding="same", activation="relu", name="a")(inputs)
    b = L.Conv2D(4, 5, padding="same", activation="tanh", name="b")(inputs)
    x = L.Add(name="add")([a, b])
    x = L.MaxPooling2D(3, strides=2, padding="same", name="maxpool")(x)          # 6x6, overlapping, -inf pads
    c = L.Conv2D(6, 1, activation="sigmoid", use_bias=False, name="c")(x)
    d = L.AveragePooling2D(3, strides=1, padding="same", name="avgpool")(x)      # pads left out of the mean
    x = L.Concatenate(name="concat")([c, d])
    x = L.Conv2D(5, 3, strides=2, padding=1, name="strided")(x)                  # int padding
    x = L.Activation("relu", name="act")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dropout(0.3, name="drop")(x)
    x = L.Dense(16, activation="softmax", name="hidden")(x)
    x = L.Dense(5, activation="linear", name="out")(x)
    return models.Model(inputs, x, name="branching")


def growing_model():
    """The layers that grow a map (issue 10): transposed convolutions of every padding and stride kind, with
    patches overlapping, tiling and leaving gaps, and nearest upsampling."""
    inputs = L.Input((5, 6, 2), name="image")
    x = L.Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu", name="t_same")(inputs)    # 10x12
    x = L.UpSampling2D((1, 2), name="up")(x)                                                          # 10x24
    x = L.Conv2DTranspose(2, (2, 1), strides=(2, 3), activation="sigmoid", name="t_gaps")(x)          # 20x72
    x = L.Conv2D(3, 3, strides=(2, 4), activation="tanh", name="down")(x)                             # 9x18
    x = L.Conv2DTranspose(2, 4, strides=3, padding="same", use_bias=False, name="t_odd")(x)           # 27x54
    x = L.MaxPooling2D(3, name="pool")(x)
    return models.Model(inputs, L.Dense(4, name="out")(L.Flatten(name="flatten")(x)), name="growing")


MODELS = {
    "growing": (growing_model, (5, 6, 2), 4),
    "lenet5": (lambda: models.lenet5(), (32, 32, 1), 10),
    "lenet5_tanh_avg": (lambda: models.lenet5(activation="tanh", pooling="average"), (32, 32, 1), 10),
    "branching": (branching_model, (12, 12, 3), 5),
}
LOSSES = [("mse", {}), ("categorical_crossentropy", {}), ("focal", {}), ("focal", {"gamma": 1.5, "alpha": 0.25})]


def batch(shape, classes, n=6, seed=1):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *shape)).astype(np.float32), rng.integers(0, classes, n)


def assert_tree_close(got, want, rtol, atol=None):
    assert set(got) == set(want)
    for name in want:
        assert set(got[name]) == set(want[name]), name
        for w in want[name]:
            g, ref = np.asarray(got[name][w]), np.asarray(want[name][w])
            assert g.shape == ref.shape
            # rtol on each element, plus a floor relative to the layer's largest value for entries near zero
            floor = rtol * 1e-2 * np.abs(ref).max() if atol is None else atol
            np.testing.assert_allclose(g, ref, rtol=rtol, atol=floor,
                                       err_msg=f"{name}/{w}")


@functools.lru_cache(maxsize=None)
def get_case(name):
    build, shape, classes = MODELS[name]
    model = build()
    return model, cj.compile(model), model.init(seed=3), shape, classes


@pytest.mark.parametrize("name", sorted(MODELS))
def test_logits_match(name):
    model, jm, params, shape, classes = get_case(name)
    x, _ = batch(shape, classes)
    want = model.apply(params, x)
    got = jm.apply(params, x)
    assert isinstance(got, jax.Array) and got.dtype == np.float32
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_activations_match(name):
    model, jm, params, shape, classes = get_case(name)
    x, _ = batch(shape, classes, n=2)
    want = model.apply(params, x, return_activations=True)
    got = jm.apply(params, x, return_activations=True)
    assert list(got) == list(want)
    for name in want:
        np.testing.assert_allclose(np.asarray(got[name]), want[name], rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("loss,kwargs", LOSSES, ids=[f"{l}{k or ''}" for l, k in LOSSES])
@pytest.mark.parametrize("name", ["lenet5", "branching", "growing"])
def test_loss_and_gradients_match(name, loss, kwargs):
    model, jm, params, shape, classes = get_case(name)
    x, y = batch(shape, classes)
    want_loss, want_grads = model.value_and_grad(params, x, y, loss=loss, **kwargs)
    got_loss, got_grads = jm.value_and_grad(params, x, y, loss=loss, **kwargs)
    np.testing.assert_allclose(float(got_loss), float(want_loss), rtol=1e-5)
    assert_tree_close(got_grads, want_grads, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_one_hot_labels_match_int_labels(name):
    """Also the tanh/average-pooling LeNet's cross-entropy gradients against the core."""
    model, jm, params, shape, classes = get_case(name)
    x, y = batch(shape, classes)
    loss_int, grads_int = jm.value_and_grad(params, x, y)
    loss_hot, grads_hot = jm.value_and_grad(params, x, np.eye(classes, dtype=np.float32)[y])
    assert_tree_close(grads_int, model.value_and_grad(params, x, y)[1], rtol=1e-4)
    assert float(loss_int) == pytest.approx(float(loss_hot), rel=1e-6)
    assert_tree_close(grads_hot, grads_int, rtol=1e-5)


OPTIMIZERS = [
    lambda: optimizers.SGD(0.05),
    lambda: optimizers.SGD(0.02, momentum=0.9),
    lambda: optimizers.SGD(0.02, momentum=0.8, nesterov=True),
    lambda: optimizers.Adagrad(0.05),
    lambda: optimizers.RMSprop(3e-4),
    lambda: optimizers.RMSprop(3e-4, rho=0.8, momentum=0.5),
    lambda: optimizers.Adam(3e-4),
]


def step_both(model, make_opt, params, x, y, steps=10):
    """`steps` optimizer steps on alternating halves of (x, y) in the NumPy core and in Compiled's jitted train_step,
    each step's loss checked to agree -> (core params, core state, JAX params, JAX state)."""
    opt = make_opt()
    state = opt.init(params)
    jm = cj.compile(model, optimizer=make_opt())
    jparams, jstate = params, jm.init_optimizer(params)
    for step in range(steps):
        xb, yb = x[step % 2::2], y[step % 2::2]
        loss, grads = model.value_and_grad(params, xb, yb)
        params, state = opt.update(grads, state, params)
        jparams, jstate, jloss = jm.train_step(jparams, jstate, xb, yb)
        np.testing.assert_allclose(float(jloss), float(loss), rtol=1e-4)
    return params, state, jparams, jstate


@pytest.mark.parametrize("make_opt", OPTIMIZERS, ids=["sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                                      "rmsprop_momentum", "adam"])
def test_ten_steps_of_each_optimizer_match(make_opt):
    model = models.lenet5()
    x, y = batch((32, 32, 1), 10, n=16, seed=4)
    params, _, jparams, _ = step_both(model, make_opt, model.init(seed=5), x, y)
    # Adam's first step is lr * g / (|g| + 1e-7): for a gradient within float32 rounding of 1e-7 that fraction of a
    # step is itself rounding, so besides rtol 1e-4 allow 5% of one step (measured: 2.4%; every other optimizer <0.1%).
    # Bigger learning rates make 10 steps chaotic (a changed weight changes every later gradient) in both engines.
    assert_tree_close(jparams, params, rtol=1e-4, atol=0.05 * make_opt().learning_rate)


def test_train_epoch_scan_equals_train_steps():
    """The jitted epoch (lax.scan over shuffled batches) is exactly the sequence of single train steps."""
    model = models.lenet5()
    x, y = batch((32, 32, 1), 10, n=20, seed=6)
    params = model.init(seed=0)
    jm = cj.compile(model, optimizer=optimizers.SGD(0.05, momentum=0.9))
    key = jax.random.key(7)
    ep_params, _, losses = jm.train_epoch(params, jm.init_optimizer(params), x, y, key, batch_size=8)
    assert losses.shape == (2,)                                 # 20 // 8 full batches; the rest waits a shuffle
    perm_key, _ = jax.random.split(key)
    order = np.asarray(jax.random.permutation(perm_key, 20))
    p, s = params, jm.init_optimizer(params)
    for i in range(2):
        idx = order[i * 8:(i + 1) * 8]
        p, s, loss = jm.train_step(p, s, x[idx], y[idx])
        np.testing.assert_allclose(float(losses[i]), float(loss), rtol=1e-5)
    assert_tree_close(ep_params, p, rtol=1e-5)
    loop_params, _, loop_losses = jm.train_epoch(params, jm.init_optimizer(params), x, y, key, batch_size=8,
                                                 loop="steps")
    np.testing.assert_allclose(np.asarray(loop_losses), np.asarray(losses), rtol=1e-5)
    assert_tree_close(loop_params, ep_params, rtol=1e-5)


def small_model():
    return models.Sequential([L.Input((10, 10, 1)), L.Conv2D(4, 3, activation="relu", name="C1"), L.Flatten(),
                              L.Dense(10)])


SCHEDULED = [
    lambda: optimizers.SGD(optimizers.cosine_decay(0.05, 6)),
    lambda: optimizers.SGD(optimizers.cosine_decay(0.02, 6, floor_ratio=0.0), momentum=0.9),
    lambda: optimizers.Adam(optimizers.cosine_decay(3e-4, 6)),
]


@pytest.mark.parametrize("make_opt", SCHEDULED, ids=["sgd", "momentum", "adam"])
def test_a_learning_rate_schedule_reaches_the_jitted_steps(make_opt):
    """Compiled traces the optimizer once, so the rate must come from its state: 10 steps (4 past the schedule's
    end) equal the NumPy core's, and differ from steps at the peak rate throughout."""
    model = small_model()
    x, y = batch((10, 10, 1), 10, n=16, seed=8)
    start = model.init(seed=2)
    params, state, jparams, jstate = step_both(model, make_opt, start, x, y)
    opt = make_opt()
    at_peak = lambda: type(opt)(opt.learning_rate.peak, **({"momentum": opt.momentum}
                                                            if isinstance(opt, optimizers.SGD) else {}))
    _, _, pparams, _ = step_both(model, at_peak, start, x, y)
    assert int(jstate["count"]) == int(state["count"]) == 10
    assert_tree_close(jparams, params, rtol=1e-4, atol=1e-6)
    moved = lambda p: np.abs(np.asarray(p["C1"]["kernel"]) - start["C1"]["kernel"]).sum()
    assert moved(pparams) > 1.2 * moved(jparams)                  # the decayed rate took visibly smaller steps


def test_a_schedule_follows_through_a_scanned_epoch():
    model = small_model()
    x, y = batch((10, 10, 1), 10, n=24, seed=9)
    params = model.init(seed=0)
    jm = cj.compile(model, optimizer=optimizers.SGD(optimizers.cosine_decay(0.05, 3), momentum=0.9))
    key = jax.random.key(3)
    scanned, state, _ = jm.train_epoch(params, jm.init_optimizer(params), x, y, key, batch_size=8, loop="scan")
    stepped, _, _ = jm.train_epoch(params, jm.init_optimizer(params), x, y, key, batch_size=8, loop="steps")
    assert int(state["count"]) == 3
    assert_tree_close(scanned, stepped, rtol=1e-5)
    perm_key, _ = jax.random.split(key)
    order = np.asarray(jax.random.permutation(perm_key, 24))
    opt = optimizers.SGD(optimizers.cosine_decay(0.05, 3), momentum=0.9)
    p, s = params, opt.init(params)
    for i in range(3):
        idx = order[i * 8:(i + 1) * 8]
        _, grads = model.value_and_grad(p, x[idx], y[idx])
        p, s = opt.update(grads, s, p)
    assert_tree_close(scanned, p, rtol=1e-4, atol=1e-6)


def test_dropout_uses_explicit_keys():
    model = branching_model()
    jm = cj.compile(model)
    params = model.init(seed=0)
    x, y = batch((12, 12, 3), 5)
    k1, k2 = jax.random.key(1), jax.random.key(2)
    act = lambda key: np.asarray(jm.apply(params, x, training=True, key=key, return_activations=True)["drop"])
    before = np.asarray(jm.apply(params, x, return_activations=True)["flatten"])
    a, b = act(k1), act(k1)
    np.testing.assert_array_equal(a, b)                          # same key, same mask
    assert not np.array_equal(a, act(k2))                         # another key, another mask
    kept = a != 0
    np.testing.assert_allclose(a[kept], before[kept] / 0.7, rtol=1e-6)   # inverted dropout: survivors scaled
    live = before != 0
    assert 0.2 < 1 - kept[live].mean() < 0.4                       # about rate=0.3 dropped
    np.testing.assert_allclose(np.asarray(jm.apply(params, x)), model.apply(params, x), rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="PRNG key"):
        jm.value_and_grad(params, x, y, training=True)
    loss, grads = jm.value_and_grad(params, x, y, training=True, key=k1)
    assert np.isfinite(float(loss)) and set(grads) == set(params)


def test_max_pool_ties_send_the_gradient_to_the_first_maximum():
    """Equal values in a pooling window that come from different input patches: the core gives the whole gradient
    to the first of them, so the kernel gradient depends on the choice. Both the tile path (2x2, stride 2) and
    reduce_window (overlapping windows) must choose as the core does."""
    x = np.zeros((2, 2, 5, 1), np.float32)
    x[0, 0, :, 0] = [1, 2, 1, 5, 0]      # with kernel [1, 1]: outputs 3, 3, 6, 5, a tie from patches (1,2), (2,1)
    x[1, 0, :, 0] = [2, 1, 2, 0, 1]              # outputs 3, 3, 2, 1
    y = np.array([0, 1])
    for pool in (L.MaxPooling2D(2), L.MaxPooling2D((2, 2), strides=1)):
        model = models.Sequential([L.Input((2, 5, 1)), L.Conv2D(1, (1, 2), use_bias=False, name="conv"), pool,
                                   L.Flatten(), L.Dense(2, name="dense")])
        params = model.init(seed=1)
        params["conv"]["kernel"] = np.ones((1, 2, 1, 1), np.float32)
        want_loss, want = model.value_and_grad(params, x, y)
        got_loss, got = cj.compile(model).value_and_grad(params, x, y)
        np.testing.assert_allclose(float(got_loss), want_loss, rtol=1e-6)
        assert_tree_close(got, want, rtol=1e-5)


def test_bad_input_raises_clear_errors():
    model = models.lenet5()
    jm = cj.compile(model)
    params = model.init(seed=0)
    x, y = batch((32, 32, 1), 10, n=4)
    with pytest.raises(ValueError, match=r"expects input \(N, 32, 32, 1\), got shape \(4, 28, 28, 1\)"):
        jm.apply(params, np.zeros((4, 28, 28, 1), np.float32))
    bad = {**params, "C1": {"kernel": np.zeros((3, 3, 1, 6), np.float32), "bias": params["C1"]["bias"]}}
    with pytest.raises(ValueError, match=r"'C1' kernel has shape \(3, 3, 1, 6\), expected \(5, 5, 1, 6\)"):
        jm.apply(bad, x)
    with pytest.raises(ValueError, match="missing layers"):
        jm.apply({k: v for k, v in params.items() if k != "F6"}, x)
    with pytest.raises(ValueError, match="labels"):
        jm.value_and_grad(params, x, y[:3])
    with pytest.raises(ValueError, match="unknown loss"):
        jm.value_and_grad(params, x, y, loss="hinge")
    with pytest.raises(ValueError, match="batch_size"):
        jm.train_epoch(params, jm.init_optimizer(params), x, y, jax.random.key(0), batch_size=5)
    assert params["C1"]["kernel"].shape == (5, 5, 1, 6)            # nothing was changed by the failed calls


def test_frozen_layers_match_the_core_and_never_move():
    model = models.Sequential([L.Input((10, 10, 1)), L.Conv2D(4, 3, activation="relu", trainable=False, name="C1"),
                               L.Flatten(), L.Dense(6, activation="tanh", name="F"), L.Dense(10, name="out")])
    x, y = batch((10, 10, 1), 10, n=8, seed=2)
    params = model.init(seed=1)
    jm = cj.compile(model, optimizer=optimizers.Adam(0.01))
    loss, grads = jm.value_and_grad(params, x, y)
    core_loss, core_grads = model.value_and_grad(params, x, y)
    assert set(grads) == set(core_grads) == {"F", "out"}
    assert_tree_close(grads, core_grads, rtol=1e-4)
    state = jm.init_optimizer(params)
    assert set(state["m"]) == {"F", "out"}
    p, s = params, state
    for _ in range(3):
        p, s, _ = jm.train_step(p, s, x, y)
    np.testing.assert_array_equal(np.asarray(p["C1"]["kernel"]), params["C1"]["kernel"])
    assert not np.allclose(np.asarray(p["F"]["kernel"]), params["F"]["kernel"])
    ep, _, _ = jm.train_epoch(params, jm.init_optimizer(params), x, y, jax.random.key(0), batch_size=4)
    np.testing.assert_array_equal(np.asarray(ep["C1"]["kernel"]), params["C1"]["kernel"])


def pixel_model():
    return models.Sequential([L.Input((8, 8, 1)), L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
                              L.Conv2DTranspose(3, 3, strides=2, padding="same", name="pixels")])


@pytest.mark.parametrize("target,loss", [("masks", "categorical_crossentropy"), ("masks", "focal"),
                                         ("one_hot", "categorical_crossentropy"), ("image", "mse"),
                                         ("image", "binary_crossentropy")])
def test_per_pixel_and_regression_targets_match(target, loss):
    model = pixel_model()
    if target == "image":       # an autoencoder's target: the input itself, one output channel
        model = models.Sequential([L.Input((8, 8, 1)), L.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
                                   L.Conv2DTranspose(1, 3, strides=2, padding="same")])
    rng = np.random.default_rng(3)
    x = rng.random((6, 8, 8, 1)).astype(np.float32)
    y = {"masks": rng.integers(0, 3, (6, 8, 8)), "one_hot": np.eye(3, dtype=np.float32)[rng.integers(0, 3, (6, 8, 8))],
         "image": x}[target]
    params = model.init(seed=2)
    # nonzero biases: with zero ones, pixels whose inputs all went through relu as 0 give a logit of exactly 0,
    # where jax.grad of the loss's max(z, 0) + log1p(exp(-|z|)) takes another one-sided derivative than the core
    params = {k: {**v, "bias": v["bias"] + 0.05} for k, v in params.items()}
    jm = cj.compile(model, optimizer=optimizers.Adam(0.01), loss=loss)
    want_loss, want_grads = model.value_and_grad(params, x, y, loss=loss)
    got_loss, got_grads = jm.value_and_grad(params, x, y)
    np.testing.assert_allclose(float(got_loss), float(want_loss), rtol=1e-5)
    assert_tree_close(got_grads, want_grads, rtol=1e-4)
    want = model.evaluate(params, x, y, loss=loss, batch_size=4, return_dict=True)
    got = jm.evaluate(params, x, y, batch_size=4, return_dict=True)
    assert set(got) == set(want) == ({"loss"} if target == "image" else {"loss", "pixel_accuracy", "mean_iou"})
    for k in want:
        assert got[k] == pytest.approx(want[k], rel=1e-5), k
    p, s, losses = jm.train_epoch(params, jm.init_optimizer(params), x, y, jax.random.key(0), batch_size=3)
    assert losses.shape == (2,) and np.isfinite(np.asarray(losses)).all()


def test_targets_of_another_shape_are_refused_before_tracing():
    model = pixel_model()
    jm = cj.compile(model)
    params = model.init(seed=0)
    x = np.zeros((2, 8, 8, 1), np.float32)
    with pytest.raises(ValueError, match=r"labels must be \(N, 8, 8\) class ids or \(N, 8, 8, 3\) .* got shape "
                                         r"\(2, 4, 4\)"):
        jm.value_and_grad(params, x, np.zeros((2, 4, 4), int))


@pytest.mark.parametrize("which", ["autoencoder", "segmenter"])
def test_autoencoder_and_segmenter_match(which):
    """Forward, loss and gradients, and three optimizer steps, of the issue-10 models in both engines."""
    rng = np.random.default_rng(5)
    x = rng.random((4, 28, 28, 1)).astype(np.float32)
    if which == "autoencoder":
        model, y, loss = models.autoencoder(), x, "mse"
    else:
        model, y, loss = models.segmenter(), rng.integers(0, 11, (4, 28, 28)), "categorical_crossentropy"
    params = model.init(seed=1)
    params = {k: {**v, "bias": v["bias"] + 0.01} for k, v in params.items()}    # off relu's kink at exactly 0
    jm = cj.compile(model, optimizer=optimizers.Adam(1e-3), loss=loss)
    np.testing.assert_allclose(np.asarray(jm.apply(params, x)), model.apply(params, x), rtol=1e-5, atol=1e-6)
    want_loss, want_grads = model.value_and_grad(params, x, y, loss=loss)
    got_loss, got_grads = jm.value_and_grad(params, x, y)
    np.testing.assert_allclose(float(got_loss), float(want_loss), rtol=1e-5)
    assert_tree_close(got_grads, want_grads, rtol=1e-4)
    opt = optimizers.Adam(1e-3)
    p, s, jp, js = params, opt.init(params), params, jm.init_optimizer(params)
    for _ in range(3):
        _, grads = model.value_and_grad(p, x, y, loss=loss)
        p, s = opt.update(grads, s, p)
        jp, js, _ = jm.train_step(jp, js, x, y)
    assert_tree_close(jp, p, rtol=1e-4, atol=1e-6)
