"""Losses over any output shape: regression targets, per-pixel classes, binary masks.

Every loss on every supported shape: its gradient against finite differences (float64), its value against a
direct reference, and the same function under jax.jit against NumPy and against jax.grad. Then bad labels."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from core import losses
from gradcheck import assert_close, numeric_grad

FOCAL = {"gamma": 2.0, "alpha": [0.2, 0.5, 0.3]}


def _labels(rng, shape, k):
    return rng.integers(0, k, shape[:-1])


def _soft(rng, shape, k):
    return rng.dirichlet(np.ones(k), shape[:-1])          # rows of probabilities summing to 1


TARGETS = {
    "labels": _labels,
    "one_hot": lambda rng, shape, k: np.eye(k)[_labels(rng, shape, k)],
    "soft": _soft,
    "regression": lambda rng, shape, k: rng.standard_normal(shape),
    "binary": lambda rng, shape, k: rng.integers(0, 2, shape).astype(np.float64),
    "probabilities": lambda rng, shape, k: rng.uniform(0, 1, shape),
    "mask": lambda rng, shape, k: rng.integers(0, 2, shape[:-1]).astype(np.float64),   # (N, H, W) for (N, H, W, 1)
}

# (loss, kwargs, outputs shape, target kind): every shape each loss supports
CASES = [
    *[("mse", {}, s, "regression") for s in [(6,), (4, 3), (2, 5, 5, 1), (2, 3, 4, 2)]],
    *[("mse", {}, s, t) for s in [(5, 3), (2, 4, 4, 3)] for t in ("labels", "one_hot")],
    *[(name, kw, s, t) for name, kw in [("categorical_crossentropy", {}), ("focal", {}), ("focal", FOCAL),
                                         ("focal", {"gamma": 0.5, "alpha": 0.25})]
      for s in [(5, 3), (2, 4, 4, 3)] for t in ("labels", "one_hot", "soft")],
    *[("binary_crossentropy", {}, s, t) for s in [(7,), (3, 4), (2, 4, 4, 1)] for t in ("binary", "probabilities")],
    ("binary_crossentropy", {}, (2, 4, 4, 1), "mask"),
]
IDS = [f"{name}{kw.get('alpha', '') if kw else ''}-{'x'.join(map(str, s))}-{t}" for name, kw, s, t in CASES]


def make_case(case, seed=0):
    name, kw, shape, kind = case
    rng = np.random.default_rng(seed)
    outputs = rng.standard_normal(shape) * 2
    return losses.get(name, **kw), outputs, TARGETS[kind](rng, shape, shape[-1])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradient_matches_finite_differences(case):
    fn, outputs, y = make_case(case)
    value, grad = fn(outputs, y)
    assert np.ndim(value) == 0 and grad.shape == outputs.shape and grad.dtype == np.float64
    assert_close(grad, numeric_grad(lambda: float(fn(outputs, y)[0]), outputs), what=str(case))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jax_jit_matches_numpy_and_jax_grad(case):
    fn, outputs, y = make_case(case)
    want_value, want_grad = fn(outputs, y)
    z = jnp.asarray(outputs, jnp.float32)
    t = jnp.asarray(y, jnp.int32 if y.dtype.kind == "i" else jnp.float32)
    value, grad = jax.jit(fn)(z, t)
    assert grad.shape == z.shape and grad.dtype == jnp.float32
    np.testing.assert_allclose(float(value), want_value, rtol=2e-5)
    np.testing.assert_allclose(np.asarray(grad), want_grad, rtol=1e-4, atol=1e-7)
    auto = jax.jit(jax.grad(lambda z, t: fn(z, t)[0]))(z, t)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(auto), rtol=1e-4, atol=1e-7)


# -- values against direct references ---------------------------------------------------------------------------

@pytest.mark.parametrize("name,kw", [("categorical_crossentropy", {}), ("focal", FOCAL), ("mse", {})])
def test_per_pixel_equals_the_reshaped_batch(name, kw):
    """(N, H, W, K) with masks (N, H, W) is (N*H*W, K) with labels (N*H*W,): every pixel one example."""
    fn = losses.get(name, **kw)
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((3, 5, 4, 3)) * 3
    mask = rng.integers(0, 3, (3, 5, 4))
    value, grad = fn(logits, mask)
    flat_value, flat_grad = fn(logits.reshape(-1, 3), mask.reshape(-1))
    np.testing.assert_allclose(value, flat_value, rtol=1e-13)
    np.testing.assert_allclose(grad, flat_grad.reshape(grad.shape), rtol=1e-13)
    hot_value, hot_grad = fn(logits, np.eye(3)[mask])
    np.testing.assert_allclose(hot_value, value, rtol=1e-13)
    np.testing.assert_allclose(hot_grad, grad, rtol=1e-13)


def test_per_pixel_crossentropy_is_the_mean_over_pixels_of_a_loop():
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((2, 3, 4, 5)) * 2
    mask = rng.integers(0, 5, (2, 3, 4))
    want = np.mean([-np.log(np.exp(logits[i]) / np.exp(logits[i]).sum())[mask[i]]
                    for i in np.ndindex(mask.shape)])
    np.testing.assert_allclose(losses.categorical_crossentropy(logits, mask)[0], want, rtol=1e-12)
    gamma = 2.0
    p_t = np.array([np.exp(logits[i])[mask[i]] / np.exp(logits[i]).sum() for i in np.ndindex(mask.shape)])
    np.testing.assert_allclose(losses.focal(logits, mask, gamma=gamma)[0],
                               np.mean(-(1 - p_t) ** gamma * np.log(p_t)), rtol=1e-12)


def test_classification_batch_keeps_its_values():
    """(N, K) with (N,): the same arithmetic as before per-pixel support, to the last bit."""
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((8, 10)).astype(np.float32) * 4
    y = rng.integers(0, 10, 8)
    t = np.eye(10, dtype=np.float32)[y]
    logp = losses.log_softmax(logits)
    value, grad = losses.categorical_crossentropy(logits, y)
    assert value == -(t * logp).sum() / 8 and np.array_equal(grad, (np.exp(logp) - t) / 8)
    diff = logits - t
    value, grad = losses.mse(logits, y)
    assert value == (diff * diff).sum() / diff.size and np.array_equal(grad, diff * (2.0 / diff.size))


def test_mse_regression_is_the_mean_over_all_elements():
    """An autoencoder's target is its input: outputs (N, 28, 28, 1) against images of the same shape."""
    rng = np.random.default_rng(4)
    out, target = rng.uniform(0, 1, (3, 28, 28, 1)), rng.uniform(0, 1, (3, 28, 28, 1))
    value, grad = losses.mse(out, target)
    np.testing.assert_allclose(value, np.mean((out - target) ** 2), rtol=1e-13)
    np.testing.assert_allclose(grad, 2 * (out - target) / out.size, rtol=1e-13)
    assert losses.mse(out.astype(np.float32), target)[1].dtype == np.float32   # the outputs' dtype, not the target's


def test_binary_crossentropy_against_the_textbook_formula():
    rng = np.random.default_rng(5)
    z, t = rng.standard_normal((4, 6, 6, 1)) * 3, rng.uniform(0, 1, (4, 6, 6, 1))
    s = 1 / (1 + np.exp(-z))
    value, grad = losses.binary_crossentropy(z, t)
    np.testing.assert_allclose(value, np.mean(-(t * np.log(s) + (1 - t) * np.log(1 - s))), rtol=1e-12)
    np.testing.assert_allclose(grad, (s - t) / z.size, rtol=1e-12)
    mask_value, mask_grad = losses.binary_crossentropy(z, (t[..., 0] > 0.5).astype(np.int64))   # (N, H, W) mask
    np.testing.assert_allclose(mask_value, losses.binary_crossentropy(z, (t > 0.5) * 1.0)[0], rtol=1e-15)
    assert mask_grad.shape == z.shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_crossentropy_is_stable_for_huge_logits(dtype):
    z = np.array([1e4, -1e4, 1e4, -1e4], dtype)
    t = np.array([1, 0, 0, 1])
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # no overflow, not even a hidden one
        value, grad = losses.binary_crossentropy(z, t)
    # right and certain: 0; wrong and certain: |z| each
    np.testing.assert_allclose(value, (0 + 0 + 1e4 + 1e4) / 4, rtol=1e-6)
    np.testing.assert_allclose(grad, np.array([0, 0, 1, -1]) / 4, atol=1e-7)
    assert grad.dtype == dtype
    jvalue, jgrad = jax.jit(losses.binary_crossentropy)(jnp.asarray(z, jnp.float32), jnp.asarray(t))
    assert np.isfinite(float(jvalue)) and np.isfinite(np.asarray(jgrad)).all()
    np.testing.assert_allclose(float(jvalue), 5e3, rtol=1e-6)


def test_get_knows_binary_crossentropy():
    assert "binary_crossentropy" in losses.NAMES
    assert losses.get("binary_crossentropy") is losses.binary_crossentropy


# -- bad labels: a clear ValueError naming the loss and what was wrong ---------------------------------------------

CLASS_LOSSES = ["mse", "categorical_crossentropy", "focal"]


@pytest.mark.parametrize("name", CLASS_LOSSES)
@pytest.mark.parametrize("bad", [0.5, 1.7, np.nan])
def test_fractional_labels_are_refused_not_truncated(name, bad):
    fn = losses.get(name)
    with pytest.raises(ValueError, match=rf"^{name}: labels must be whole class ids in \[0, 3\), got "
                                         rf"{bad!r} at index \(1,\)"):
        fn(np.zeros((3, 3)), np.array([0.0, bad, 2.0]))
    mask = np.zeros((2, 4, 4))
    mask[1, 2, 3] = bad
    with pytest.raises(ValueError, match=rf"^{name}: labels must be whole .* at index \(1, 2, 3\)"):
        fn(np.zeros((2, 4, 4, 3)), mask)


@pytest.mark.parametrize("name", CLASS_LOSSES)
def test_whole_float_labels_still_work(name):
    fn = losses.get(name)
    logits = np.random.default_rng(6).standard_normal((4, 3))
    y = np.array([0, 2, 1, 2])
    np.testing.assert_array_equal(fn(logits, y.astype(np.float32))[0], fn(logits, y)[0])


@pytest.mark.parametrize("name", ["categorical_crossentropy", "focal"])
def test_one_hot_rows_must_name_a_class(name):
    fn = losses.get(name)
    hot = np.eye(3)[[0, 1, 2]]
    hot[1] = 0
    with pytest.raises(ValueError, match=rf"^{name}: one-hot labels of shape \(3, 3\) have an all-zero row at "
                                         r"index \(1,\)"):
        fn(np.zeros((3, 3)), hot)
    pixels = np.eye(3)[np.zeros((2, 4, 4), int)]
    pixels[0, 3, 1] = 0
    with pytest.raises(ValueError, match=r"all-zero row at index \(0, 3, 1\)"):
        fn(np.zeros((2, 4, 4, 3)), pixels)
    with pytest.raises(ValueError, match=rf"^{name}: one-hot label rows must sum to 1, got a row summing to 2"):
        fn(np.zeros((2, 3)), np.array([[1, 1, 0], [0, 0, 1]]))
    with pytest.raises(ValueError, match=rf"^{name}: one-hot labels must be in \[0, 1\], got 1.5 at index \(0, 0\)"):
        fn(np.zeros((1, 3)), np.array([[1.5, -0.5, 0]]))


@pytest.mark.parametrize("name", CLASS_LOSSES)
def test_out_of_range_pixel_labels(name):
    mask = np.zeros((2, 4, 4), int)
    mask[1, 1, 1] = 3
    with pytest.raises(ValueError, match=rf"^{name}: labels must be in \[0, 3\), got values from 0 to 3"):
        losses.get(name)(np.zeros((2, 4, 4, 3)), mask)
    with pytest.raises(ValueError, match=rf"^{name}: labels must be in \[0, 3\), got values from -2 to 0"):
        losses.get(name)(np.zeros((2, 4, 4, 3)), -2 * (mask > 0))


@pytest.mark.parametrize("name", CLASS_LOSSES)
def test_shapes_that_do_not_fit(name):
    fn = losses.get(name)
    with pytest.raises(ValueError, match=rf"^{name}: labels of shape \(2, 4, 5\), outputs of shape \(2, 4, 4, 3\) "
                                         r"do not fit"):
        fn(np.zeros((2, 4, 4, 3)), np.zeros((2, 4, 5), int))
    with pytest.raises(ValueError, match=rf"^{name}: 3 labels for 2 outputs \(labels of shape \(3, 4, 4\)"):
        fn(np.zeros((2, 4, 4, 3)), np.zeros((3, 4, 4), int))
    with pytest.raises(ValueError, match=rf"^{name}: one-hot labels have 2 classes, the output has 3"):
        fn(np.zeros((2, 4, 4, 3)), np.zeros((2, 4, 4, 2)))
    with pytest.raises(ValueError, match=rf"^{name}: labels must be numbers"):
        fn(np.zeros((2, 3)), np.array(["a", "b"]))


def test_class_losses_need_a_class_axis():
    for name in ["categorical_crossentropy", "focal"]:
        with pytest.raises(ValueError, match=rf"^{name}: outputs must be \(N, classes\)"):
            losses.get(name)(np.zeros(4), np.zeros(4, int))


def test_mse_target_shapes():
    with pytest.raises(ValueError, match=r"^mse: labels of shape \(2, 5, 4, 1\), outputs of shape \(2, 4, 4, 1\) "
                                         r"do not fit: give a target of the outputs' shape"):
        losses.mse(np.zeros((2, 4, 4, 1)), np.zeros((2, 5, 4, 1)))
    with pytest.raises(ValueError, match=r"^mse: one-hot labels have 2 classes, the output has 1 .* a regression "
                                         r"target needs the outputs' shape"):
        losses.mse(np.zeros((2, 4, 4, 1)), np.zeros((2, 4, 4, 2)))
    with pytest.raises(ValueError, match=r"^mse: 3 labels for 2 outputs"):
        losses.mse(np.zeros(2), np.zeros(3))
    # a float regression target of the label shape is not a class id: the message says which shape to give
    with pytest.raises(ValueError, match=r"^mse: labels must be whole class ids in \[0, 1\), got 0.25"):
        losses.mse(np.zeros((3, 1)), np.array([0.25, 0.5, 0.0]))


def test_binary_crossentropy_refuses_bad_targets():
    with pytest.raises(ValueError, match=r"^binary_crossentropy: targets must be 0/1 or probabilities in \[0, 1\], "
                                         r"got 2 at index \(1, 0\)"):
        losses.binary_crossentropy(np.zeros((2, 2)), np.array([[0, 1], [2, 0]]))
    with pytest.raises(ValueError, match=r"got nan at index \(0,\)"):
        losses.binary_crossentropy(np.zeros(2), np.array([np.nan, 0]))
    with pytest.raises(ValueError, match=r"^binary_crossentropy: targets need the outputs' shape, got labels of "
                                         r"shape \(3, 5\), outputs of shape \(3, 4\)"):
        losses.binary_crossentropy(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"^binary_crossentropy: 2 labels for 3 outputs"):
        losses.binary_crossentropy(np.zeros((3, 4)), np.zeros((2, 4)))
