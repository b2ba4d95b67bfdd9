"""Loss definitions (docs/api.md, Losses): values on known inputs, stability, and how they relate."""
import numpy as np
import pytest

from core import losses
from gradcheck import numeric_grad


def test_crossentropy_is_stable_for_huge_logits():
    logits = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], np.float32)
    value, grad = losses.categorical_crossentropy(logits, np.array([0, 2]))
    # first row is certain and right (loss 0); second splits between classes 1 and 2 (loss log 2)
    np.testing.assert_allclose(value, np.log(2) / 2, rtol=1e-6)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, [[0, 0, 0], [0, 0.25, -0.25]], atol=1e-7)


def test_crossentropy_value_and_one_hot_labels():
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    value, _ = losses.categorical_crossentropy(logits, np.array([0, 2]))
    np.testing.assert_allclose(value, -(np.log(0.7) + np.log(0.8)) / 2)
    one_hot = np.eye(3)[[0, 2]]
    np.testing.assert_allclose(losses.categorical_crossentropy(logits, one_hot)[0], value)


def test_focal_with_gamma_0_and_no_alpha_is_crossentropy():
    logits = np.random.default_rng(0).standard_normal((6, 4)) * 3
    y = np.array([0, 1, 2, 3, 2, 1])
    ce, dce = losses.categorical_crossentropy(logits, y)
    fl, dfl = losses.focal(logits, y, gamma=0.0, alpha=None)
    np.testing.assert_allclose(fl, ce, rtol=1e-12)
    np.testing.assert_allclose(dfl, dce, rtol=1e-12)


def test_focal_down_weights_easy_examples():
    easy = np.array([[5.0, 0.0]])      # p_t ~ 0.993
    hard = np.array([[0.0, 0.5]])      # p_t ~ 0.38
    y = np.array([0])
    ratio_ce = losses.categorical_crossentropy(easy, y)[0] / losses.categorical_crossentropy(hard, y)[0]
    ratio_focal = losses.focal(easy, y, gamma=2.0)[0] / losses.focal(hard, y, gamma=2.0)[0]
    assert ratio_focal < ratio_ce / 100
    p_t = np.exp(-losses.categorical_crossentropy(hard, y)[0])
    np.testing.assert_allclose(losses.focal(hard, y, gamma=2.0, alpha=0.25)[0],
                               -0.25 * (1 - p_t) ** 2 * np.log(p_t), rtol=1e-12)


def test_mse_is_the_mean_over_all_elements():
    out = np.array([[0.5, 0.5], [1.0, 0.0]])
    value, grad = losses.mse(out, np.array([0, 0]))
    np.testing.assert_allclose(value, (0.25 + 0.25 + 0 + 0) / 4)
    np.testing.assert_allclose(grad, 2 * (out - [[1, 0], [1, 0]]) / 4)


@pytest.mark.parametrize("fn", [losses.mse, losses.categorical_crossentropy, losses.focal])
def test_bad_labels(fn):
    logits = np.zeros((2, 3))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\), got values from -1 to 1"):
        fn(logits, np.array([-1, 1]))
    with pytest.raises(ValueError, match="3 labels for 2 outputs"):
        fn(logits, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="one-hot labels have 4 classes, the output has 3"):
        fn(logits, np.eye(4)[:2])


def test_focal_alpha_per_class_must_match():
    with pytest.raises(ValueError, match="alpha has 2 class weights, the output has 3 classes"):
        losses.focal(np.zeros((1, 3)), np.array([0]), alpha=[0.5, 0.5])


# -- the loss lab's curves: loss and d loss / d true logit against the true class's probability ------------------

P = np.array([1e-4, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99])


def logits_for(p, classes):
    """Logits whose softmax gives class 0 probability p and the rest (1 - p) / (classes - 1) each."""
    z = np.full((1, classes), np.log((1 - p) / (classes - 1)))
    z[0, 0] = np.log(p)
    return z


@pytest.mark.parametrize("name,kw", [("categorical_crossentropy", {}), ("focal", {"gamma": 2.0, "alpha": 0.25}),
                                     ("focal", {"gamma": 3.0, "alpha": [0.9] + [0.1] * 9})])
def test_curve_is_the_core_loss_called_directly(name, kw):
    c = losses.curve(name, P, classes=10, **kw)
    np.testing.assert_array_equal(c["p_true"], P)
    for i, p in enumerate(P):
        value, grad = losses.get(name, **kw)(logits_for(p, 10), np.array([0]))
        assert c["loss"][i] == value and c["dlogit_true"][i] == grad[0, 0]


def test_curve_mse_is_mse_on_softmax_probabilities():
    """The lecture's MSE: on the probabilities, mean over the classes, its gradient back through the softmax."""
    c = losses.curve("mse", P, classes=4)
    for i, p in enumerate(P):
        probs = np.array([p] + [(1 - p) / 3] * 3)
        np.testing.assert_allclose(c["loss"][i], np.mean((probs - [1, 0, 0, 0]) ** 2), rtol=1e-10)
        z = logits_for(p, 4)

        def mse_of_logits():
            e = np.exp(z - z.max())
            return losses.mse(e / e.sum(), np.array([0]))[0]

        num = numeric_grad(mse_of_logits, z)[0, 0]
        np.testing.assert_allclose(c["dlogit_true"][i], num, rtol=1e-5, atol=1e-10)


def test_crossentropy_does_not_saturate_where_mse_on_softmax_does():
    """Very wrong (p -> 0): cross-entropy's gradient stays near -1, MSE-on-softmax's vanishes with p."""
    ce, mse = losses.curve("categorical_crossentropy", P), losses.curve("mse", P)
    np.testing.assert_allclose(ce["loss"], -np.log(P), rtol=1e-10)
    np.testing.assert_allclose(ce["dlogit_true"], P - 1, rtol=1e-10, atol=1e-15)
    assert abs(ce["dlogit_true"][0]) > 0.999
    assert abs(mse["dlogit_true"][0]) < 1e-4                             # p = 1e-4: almost no signal
    assert abs(mse["dlogit_true"][0]) < abs(mse["dlogit_true"][3]) / 100  # shrinking with p, p = 1e-4 vs 0.1
    assert (mse["dlogit_true"] < 0).all() and (ce["dlogit_true"] < 0).all()   # both push the true logit up


def test_curve_focal_with_gamma_0_is_crossentropy():
    ce = losses.curve("categorical_crossentropy", P, classes=5)
    fl = losses.curve("focal", P, classes=5, gamma=0.0, alpha=None)
    np.testing.assert_allclose(fl["loss"], ce["loss"], rtol=1e-12)
    np.testing.assert_allclose(fl["dlogit_true"], ce["dlogit_true"], rtol=1e-12)
    easy = losses.curve("focal", [0.9], classes=5, gamma=2.0)
    assert easy["loss"][0] < ce["loss"][-2] / 50                        # well-classified examples fade out


@pytest.mark.parametrize("args,match", [
    (("mse", [0.0, 0.5]), r"p_true must be probabilities in \(0, 1\)"),
    (("mse", [0.5, 1.0]), r"p_true must be probabilities in \(0, 1\)"),
    (("mse", [np.nan]), r"p_true must be probabilities in \(0, 1\)"),
    (("binary_crossentropy", [0.5]), "choose one of mse, categorical_crossentropy, focal"),
    (("hinge", [0.5]), "unknown loss 'hinge'"),
])
def test_curve_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        losses.curve(*args)
    with pytest.raises(ValueError, match="classes must be an int >= 2, got 1"):
        losses.curve("mse", [0.5], classes=1)
