"""Loss definitions (DESIGN.md): values on known inputs, stability, and how they relate."""
import numpy as np
import pytest

from core import losses


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
