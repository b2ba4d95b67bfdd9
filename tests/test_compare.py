"""core/compare.py (an MLP against LeNet-5, moved digits, the 196,608-input arithmetic, a C1 of designed kernels,
frozen) and the designed-kernel helpers at the end of core/filters.py."""
import numpy as np
import pytest

from core import compare, filters, losses, metrics, models, optimizers, step


# ---------------------------------------------------------------- designed kernels (core/filters.py)

def test_a_centred_3x3_kernel_filters_like_the_kernel_itself():
    image = np.random.default_rng(0).random((12, 10)).astype(np.float32)
    big = filters.centred(filters.sobel_x(), 5)
    assert big.shape == (5, 5) and big[1:4, 1:4].tolist() == filters.sobel_x().tolist() and big.sum() == 0
    np.testing.assert_allclose(filters.apply(image, big), filters.apply(image, filters.sobel_x()), atol=1e-6)
    with pytest.raises(ValueError, match="centred"):
        filters.centred(np.ones((5, 5)), 3)
    with pytest.raises(ValueError, match="centred"):
        filters.centred(np.ones((2, 2)), 5)


def test_kernel_distance_ignores_scale_and_sees_shape_and_sign():
    s = filters.sobel_x()
    assert filters.kernel_distance(s, 0.01 * s) == pytest.approx(0, abs=1e-6)
    assert filters.kernel_distance(s, -s) == pytest.approx(2)
    assert filters.kernel_distance(s, filters.sobel_y()) == pytest.approx(np.sqrt(2))     # orthogonal
    with pytest.raises(ValueError, match="shapes"):
        filters.kernel_distance(s, np.ones((5, 5)))


def test_start_kernels_have_unit_norm_and_random_follows_its_seed():
    for name in filters.STARTS:
        k = filters.start_kernel(name, 5, seed=3)
        assert k.shape == (5, 5) and k.dtype == np.float32
        assert np.linalg.norm(k) == pytest.approx(1, rel=1e-5)
    small = filters.start_kernel("laplacian", 3)
    assert filters.kernel_distance(small, filters.laplacian()) == pytest.approx(0, abs=1e-6)
    assert np.array_equal(filters.start_kernel("random", seed=1), filters.start_kernel("random", seed=1))
    assert not np.array_equal(filters.start_kernel("random", seed=1), filters.start_kernel("random", seed=2))
    with pytest.raises(ValueError, match="unknown kernel 'canny'"):
        filters.start_kernel("canny")


def test_nearest_designed_finds_each_kernel_and_its_negative():
    for name in filters.DESIGNED:
        k = filters.start_kernel(name)
        assert filters.nearest_designed(3 * k)[:2] == (name, 1)
        found, sign, distance = filters.nearest_designed(-k + 0.01 * filters.start_kernel("random"))
        assert (found, sign) == (name, -1) and 0 < distance < 0.05
    with pytest.raises(ValueError, match="square"):
        filters.nearest_designed(np.ones((5, 3)))


# ---------------------------------------------------------------- MLP vs CNN

def test_the_mlp_is_flatten_dense_dense_about_lenets_size():
    mlp = compare.mlp()
    assert [layer.kind for layer in mlp.layers] == ["Flatten", "Dense", "Dense"]
    assert mlp.input_shape == (32, 32, 1) and mlp.output_shape == (10,)
    assert mlp.count_params() == 1024 * 60 + 60 + 61 * 10 == 62_110
    assert abs(mlp.count_params() - models.lenet5().count_params()) < 0.01 * 61_706


def test_shift_moves_pixels_and_lets_zeros_in():
    x = np.zeros((1, 5, 5, 1), np.float32)
    x[0, 2, 2, 0] = 1
    for dy, dx in ((0, 1), (0, -2), (1, 0), (-2, 0), (1, 1)):
        out = compare.shift(x, dy, dx)
        assert out.shape == x.shape and out.sum() == 1 and out[0, 2 + dy, 2 + dx, 0] == 1
    edge = np.ones((2, 4, 4), np.float32)
    moved = compare.shift(edge, 0, 1)
    assert moved[:, :, 0].tolist() == [[0] * 4] * 2 and moved[:, :, 1:].min() == 1   # not wrapped around
    assert compare.shift(edge, 0, 4).sum() == 0 and np.array_equal(compare.shift(edge, 0, 0), edge)
    with pytest.raises(ValueError, match="images"):
        compare.shift(np.ones((4, 4)), 1, 0)


def test_accuracy_shifted_averages_the_four_directions():
    model = compare.mlp()
    params = model.init(seed=1)
    rng = np.random.default_rng(0)
    x, y = rng.random((40, 32, 32, 1), dtype=np.float32), rng.integers(0, 10, 40)
    want = np.mean([metrics.accuracy(y, model.predict(params, compare.shift(x, 2 * dy, 2 * dx)))
                    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0))])
    assert compare.accuracy_shifted(model, params, x, y, 2) == pytest.approx(want)
    assert compare.accuracy_shifted(model, params, x, y, 0) == metrics.accuracy(y, model.predict(params, x))
    with pytest.raises(ValueError, match="pixels"):
        compare.accuracy_shifted(model, params, x, y, -1)


def test_the_lectures_196608_inputs():
    a = compare.input_arithmetic()
    assert a["inputs"] == 256 * 256 * 3 == 196_608
    assert a["dense_params"] == 100 * (196_608 + 1) and a["conv_params"] == 64 * (3 * 3 * 3 + 1) == 1_792
    assert a["ratio"] == pytest.approx(19_660_900 / 1_792)
    with pytest.raises(ValueError, match="image_shape"):
        compare.input_arithmetic((0, 256, 3))


# ---------------------------------------------------------------- designed vs learned filters

def test_frozen_makes_a_copy_whose_named_layer_does_not_train():
    lenet = models.lenet5()
    frozen = compare.frozen(lenet, ["C1"])
    assert [layer.trainable for layer in frozen.layers if layer.kind in ("Conv2D", "Dense")] == [False] + [True] * 4
    assert all(layer.trainable for layer in lenet.layers)                  # the original is untouched
    params = lenet.init(seed=0)
    x = np.random.default_rng(0).random((8, 32, 32, 1), dtype=np.float32)
    opt = optimizers.Adam(1e-2)
    new, _, _ = step.train_step(frozen, opt, losses.get("categorical_crossentropy"), params,
                                opt.init(frozen.trainable_params(params)), x, np.arange(8) % 10)
    assert np.array_equal(new["C1"]["kernel"], params["C1"]["kernel"])
    assert not np.array_equal(new["C3"]["kernel"], params["C3"]["kernel"])
    with pytest.raises(ValueError, match="no Conv2D or Dense layer named 'S2'"):
        compare.frozen(lenet, ["S2"])


def test_designed_c1_puts_the_named_kernels_in_c1_at_the_old_filters_norms():
    params = models.lenet5().init(seed=0)
    starts = ("sobel_y", "gaussian", "laplacian", "random", "sharpen", "sobel_x")
    new = compare.designed_c1(params, starts, seed=5)
    k, old = new["C1"]["kernel"], params["C1"]["kernel"]
    assert k.shape == old.shape and k.dtype == old.dtype and not new["C1"]["bias"].any()
    for i, name in enumerate(starts):
        assert filters.kernel_distance(k[:, :, 0, i], filters.start_kernel(name, 5, seed=5 + i)) < 1e-5
        assert np.linalg.norm(k[:, :, 0, i]) == pytest.approx(np.linalg.norm(old[:, :, 0, i]), rel=1e-5)
    assert new["C3"] is params["C3"] and params["C1"]["kernel"] is old       # nothing else changed, nothing in place
    with pytest.raises(ValueError, match="one start per filter"):
        compare.designed_c1(params, starts[:5])


def test_c1_against_designed_names_each_filters_nearest_kernel():
    params = compare.designed_c1(models.lenet5().init(seed=0), filters.STARTS)
    kernel = params["C1"]["kernel"].copy()
    kernel[..., 1] *= -1                                                      # a right-to-left Sobel
    found = compare.c1_against_designed(kernel)
    assert [(f["name"], f["sign"]) for f in found[:5]] == [("gaussian", 1), ("sobel_x", -1), ("sobel_y", 1),
                                                           ("laplacian", 1), ("sharpen", 1)]
    assert max(f["distance"] for f in found[:5]) < 1e-5 and found[5]["distance"] > 0.5     # random is none of them
    assert filters.kernel_distance(found[1]["kernel"], kernel[:, :, 0, 1]) < 1e-5
    with pytest.raises(ValueError, match="first-layer kernel"):
        compare.c1_against_designed(np.ones((5, 5, 6, 16)))


# ---------------------------------------------------------------- an autoencoder's code, segmentation's IoU

@pytest.fixture(scope="module")
def autoencoder():
    model = models.autoencoder(code_size=3)
    x = np.random.default_rng(0).random((6, 28, 28, 1), dtype=np.float32)
    return model, model.init(seed=0), x


def test_code_space_is_where_the_encoder_puts_the_digits(autoencoder):
    model, params, x = autoencoder
    space = compare.code_space(model, params, x)
    codes = models.encoder_of(model).apply(params, x)
    assert np.array_equal(space["codes"], codes) and space["codes"].shape == (6, 3)
    assert (space["low"] < codes.min(axis=0)).all() and (space["high"] > codes.max(axis=0)).all()
    span = codes.max(axis=0) - codes.min(axis=0)
    np.testing.assert_allclose(space["high"] - space["low"], 1.5 * span, rtol=1e-5)
    assert (space["pixels"], space["size"], space["ratio"]) == (784, 3, 784 / 3)
    still = dict(params, code={"kernel": np.zeros_like(params["code"]["kernel"]), "bias": params["code"]["bias"]})
    flat = compare.code_space(model, still, x)                                    # a unit that never moves
    np.testing.assert_allclose(flat["high"] - flat["low"], 1.0)


def test_decode_gives_the_models_output_and_moved_units_change_it(autoencoder):
    model, params, x = autoencoder
    code = compare.code_space(model, params, x)["codes"][2]
    np.testing.assert_allclose(compare.decode(model, params, code), model.apply(params, x[2:3])[0], atol=1e-6)
    moved = compare.decode(model, params, code, {1: code[1] + 5.0})
    assert moved.shape == (28, 28, 1) and not np.allclose(moved, compare.decode(model, params, code))
    changed = code.copy()
    changed[1] += 5.0
    np.testing.assert_allclose(moved, compare.decode(model, params, changed), atol=1e-6)
    assert code[1] != changed[1]                                                  # the caller's code is kept
    with pytest.raises(ValueError, match="units 0..2"):
        compare.decode(model, params, code, {3: 1.0})


def test_digit_iou_leaves_the_background_out_of_the_mean():
    masks = np.zeros((1, 4, 4), np.int64)
    masks[0, 0, :] = 4                                   # class 4 on four pixels
    masks[0, 3, 0] = 2                                   # class 2 on one
    logits = np.zeros((1, 4, 4, 11), np.float32)
    logits[..., 0] = 1                                   # background everywhere...
    logits[0, 0, :2, 4] = 5                              # ...but two of class 4's pixels
    logits[0, 1, 0, 4] = 5                               # and one background pixel called 4
    logits[0, 3, 0, 2] = 5                               # class 2 right
    found = compare.digit_iou(masks, logits)
    assert found["per_class"][4] == pytest.approx(2 / 5) and found["per_class"][2] == 1
    assert np.isnan(found["per_class"][7]) and found["per_class"][0] == pytest.approx(10 / 13)
    assert found["mean_digits"] == pytest.approx((2 / 5 + 1) / 2)
    assert np.isnan(compare.digit_iou(np.zeros((1, 2, 2), np.int64), np.zeros((1, 2, 2, 11)))["mean_digits"])
