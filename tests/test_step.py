"""core.step: the one training step (value_and_grad -> divergence check -> update -> metrics) and the one
divergence rule that Model.fit, the studio's Trainer and both CLIs share."""
import math

import numpy as np
import pytest

from core import layers as L
from core import losses, metrics, models, optimizers, step


def small_model():
    return models.Sequential([L.Input((6, 6, 1)), L.Conv2D(3, 3, activation="relu"), L.Flatten(), L.Dense(4)])


def batch(n=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 6, 6, 1)).astype(np.float32), rng.integers(0, 4, n)


def copy(tree):
    return {k: {w: a.copy() for w, a in v.items()} for k, v in tree.items()}


def assert_same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        for w in a[k]:
            np.testing.assert_array_equal(a[k][w], b[k][w])


def test_a_step_is_value_and_grad_then_the_optimizer_update():
    model, (x, y) = small_model(), batch()
    params = model.init(seed=1)
    opt = optimizers.SGD(0.1, momentum=0.9)
    state = opt.init(params)
    kept, kept_state = copy(params), copy({"v": state["velocity"]})
    new, new_state, got = step.train_step(model, opt, losses.get("categorical_crossentropy"), params, state, x, y)
    loss, grads = model.value_and_grad(params, x, y)
    want, want_state = opt.update(grads, opt.init(params), params)
    assert_same(new, want)
    assert_same(new_state["velocity"], want_state["velocity"])
    assert got["loss"] == pytest.approx(float(loss), rel=1e-6) and isinstance(got["loss"], float)
    logits = model.apply(params, x)
    assert got["correct"] == metrics.count_correct(y, logits) == round(metrics.accuracy(y, logits) * 8)
    assert got["count"] == 8
    assert_same(params, kept)                       # nothing changed in place
    assert_same({"v": state["velocity"]}, kept_state)


def test_one_hot_labels_count_the_same_correct_predictions():
    model, (x, y) = small_model(), batch()
    params, opt = model.init(seed=2), optimizers.SGD(0.01)
    loss_fn = losses.get("categorical_crossentropy")
    _, _, ints = step.train_step(model, opt, loss_fn, params, opt.init(params), x, y)
    _, _, hot = step.train_step(model, opt, loss_fn, params, opt.init(params), x, np.eye(4, dtype=np.float32)[y])
    assert ints["correct"] == hot["correct"] and ints["loss"] == pytest.approx(hot["loss"], rel=1e-6)


@pytest.mark.parametrize("scale, why", [(np.nan, "nan"), (1e6, "more than 1000 times")])
def test_a_diverged_loss_raises_before_anything_moves(scale, why):
    model, (x, y) = small_model(), batch()
    params = model.init(seed=3)
    opt = optimizers.Adam(0.01)
    state = opt.init(params)
    kept = copy(params)
    with pytest.raises(step.Diverged, match=why) as err:
        # a limit of 10 for a first loss of ~1.4; the scaled inputs give a loss of ~1e5 or NaN
        step.train_step(model, opt, losses.get("mse"), params, state, x * scale, y, limit=10.0)
    assert err.value.limit == 10.0 and (math.isnan(err.value.loss) or err.value.loss > 10.0)
    assert_same(params, kept) and int(state["count"]) == 0


def test_the_rule():
    # the run's first loss sets the limit: DIVERGE_FACTOR times it, but never below DIVERGE_FACTOR * 1.0
    assert step.loss_limit(2.3) == pytest.approx(2300) and step.loss_limit(0.05) == 1000
    assert step.loss_limit(5.0, limit=123.0) == 123.0              # once set, later losses keep it
    assert not step.diverged(1e9)                                   # no limit yet: only NaN/inf count
    assert step.diverged(math.nan) and step.diverged(math.inf) and step.diverged(-math.inf, 10)
    assert step.diverged(2300.1, 2300) and not step.diverged(2300, 2300)


def test_check_losses_finds_the_first_diverged_loss_in_a_sequence():
    assert step.check_losses([2.0, 1.5, 1.0]) == (None, 2000.0)
    assert step.check_losses([2.0, 1.5, 2001.0, np.nan]) == (2, 2000.0)
    assert step.check_losses(np.array([1.0, np.inf], np.float32), limit=50.0) == (1, 50.0)
    assert step.check_losses([np.nan, 1.0]) == (0, None)           # a first loss of NaN sets no limit
    # epoch by epoch, as the JAX trainer calls it: the first epoch's first loss sets the limit for the next
    _, limit = step.check_losses([0.5, 0.4])
    assert step.check_losses([900.0, 1000.5], limit) == (1, 1000.0)


def test_the_message_says_what_and_where():
    assert step.diverged_message(math.nan, "epoch 2, batch 3") == (
        "training stopped: the loss became nan at epoch 2, batch 3 (often a learning rate that is too high)")
    text = step.diverged_message(2.5e22, "epoch 1, batch 2")
    assert "became 2.5e+22 at epoch 1, batch 2, more than 1000 times its value at the start of the run" in text


def test_all_finite():
    good = {"a": {"kernel": np.ones(3)}, "b": {}}
    assert step.all_finite(good)
    assert not step.all_finite({**good, "c": {"bias": np.array([0.0, np.inf])}})


def test_a_nan_gradient_is_named_with_the_loss_it_came_with():
    assert step.diverged_message(0.7, "epoch 3, batch 1", gradient="C3/kernel") == (
        "training stopped: the gradient of C3/kernel became NaN/inf at epoch 3, batch 1 (the loss was 0.7) "
        "(often a learning rate that is too high)")
    e = step.Diverged(0.7, 5.0, gradient="C3/kernel")
    assert e.message("epoch 3, batch 1") == step.diverged_message(0.7, "epoch 3, batch 1", "C3/kernel")
    assert str(e) == e.message("this batch") and isinstance(e, FloatingPointError)
    assert step.first_nonfinite({"a": {"kernel": np.ones(2)}, "b": {"bias": np.array([1.0, np.nan])}}) == "b/bias"
    assert step.first_nonfinite({"a": {"kernel": np.ones(2)}}) is None
