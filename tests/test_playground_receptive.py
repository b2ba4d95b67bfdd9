"""core.receptive: the windows and dot products the playground shows must agree with core.conv / core.pooling."""
import numpy as np
import pytest

from core import conv, filters, pooling, receptive


@pytest.mark.parametrize("padding", ["valid", "same", 1])
@pytest.mark.parametrize("stride", [1, 2, 3])
def test_dot_product_reproduces_every_conv_output_pixel(padding, stride):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 11)).astype(np.float32)
    k = rng.normal(size=(3, 5)).astype(np.float32)
    out = conv.conv2d(x, k, bias=np.array([0.5], np.float32), stride=stride, padding=padding)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            dp = receptive.dot_product(x, k, i, j, stride=stride, padding=padding, bias=0.5)
            assert dp["output"] == pytest.approx(out[i, j], rel=1e-5, abs=1e-5)
            np.testing.assert_allclose(dp["products"], dp["patch"] * k)


def test_window_reaches_into_zero_padding_at_the_corner():
    x = np.arange(1, 26, dtype=np.float32).reshape(5, 5)
    dp = receptive.dot_product(x, np.ones((3, 3), np.float32), 0, 0, padding="same")
    assert dp["rect"] == {"top": -1, "left": -1, "bottom": 2, "right": 2}
    np.testing.assert_array_equal(dp["patch"], [[0, 0, 0], [0, 1, 2], [0, 6, 7]])
    assert dp["output"] == 16
    np.testing.assert_array_equal(dp["padded"], [[1, 1, 1], [1, 0, 0], [1, 0, 0]])


def test_window_outside_the_output_is_a_clear_error():
    with pytest.raises(ValueError, match=r"output pixel \(3, 0\) is outside the output 3x3"):
        receptive.window(3, 0, 3, 1, "valid", (5, 5))


@pytest.mark.parametrize("size,stride", [(2, 2), (3, 2), (3, 1)])
def test_pool_window_matches_pooling_and_its_argmax(size, stride):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 9)).astype(np.float32)
    x4 = x[None, :, :, None]
    mx, _ = pooling.max_pool_forward(x4, size, stride)
    av, _ = pooling.avg_pool_forward(x4, size, stride)
    rows, cols = pooling.max_pool_argmax(x4, size, stride)
    for i in range(mx.shape[1]):
        for j in range(mx.shape[2]):
            m = receptive.pool_window(x, i, j, size, stride, "max")
            assert m["output"] == mx[0, i, j, 0]
            assert m["winner"] == (rows[0, i, j, 0], cols[0, i, j, 0])
            a = receptive.pool_window(x, i, j, size, stride, "avg")
            assert a["output"] == pytest.approx(av[0, i, j, 0], rel=1e-5, abs=1e-6)
            assert a["winner"] is None


def test_winner_mask_marks_exactly_the_winners():
    x = np.array([[1, 9, 0, 0], [2, 3, 0, 7], [5, 0, 0, 0], [0, 0, 8, 0]], np.float32)
    rows, cols = pooling.max_pool_argmax(x[None, :, :, None], 2, 2)
    mask = receptive.winner_mask(x.shape, rows[0, :, :, 0], cols[0, :, :, 0])
    assert sorted(zip(*np.nonzero(mask))) == [(0, 1), (1, 3), (2, 0), (3, 2)]


def test_mirrored_dot_products_reproduce_the_sobel_gradients_at_every_border_pixel():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 255, size=(6, 7)).astype(np.float32)
    gx, gy = filters.gradients(x)
    for i in range(6):
        for j in range(7):
            dx = receptive.dot_product(x, filters.sobel_x(), i, j, padding="same", border="mirror")
            dy = receptive.dot_product(x, filters.sobel_y(), i, j, padding="same", border="mirror")
            assert dx["output"] == pytest.approx(gx[i, j], abs=1e-3)
            assert dy["output"] == pytest.approx(gy[i, j], abs=1e-3)


def test_mirror_index_matches_numpy_symmetric_padding():
    x = np.arange(5)
    np.testing.assert_array_equal(x[receptive.mirror_index(np.arange(-7, 12), 5)], np.pad(x, 7, "symmetric")[:19])


def test_stacked_windows_grow_the_receptive_field():
    assert receptive.stacked_size(3, 3) == 5
    assert receptive.stacked_size(5, 3, 3) == 9


@pytest.mark.parametrize("padding,stride", [("valid", 1), ("same", 2), (1, 3)])
def test_input_rect_is_the_union_of_the_windows_it_covers(padding, stride):
    rect = {"top": 1, "left": 0, "bottom": 3, "right": 2}
    windows = [receptive.window(i, j, (3, 5), stride, padding, (13, 17)) for i in (1, 2) for j in (0, 1)]
    union = {"top": min(w["top"] for w in windows), "left": min(w["left"] for w in windows),
             "bottom": max(w["bottom"] for w in windows), "right": max(w["right"] for w in windows)}
    assert receptive.input_rect(rect, (3, 5), stride, padding, (13, 17)) == union


def test_pooling_after_a_conv_grows_the_receptive_field():
    pool = receptive.window(0, 0, 2, 2, "valid", (6, 6))           # a 2x2 pool window on a 6x6 feature map
    assert receptive.input_rect(pool, 3, 1, "valid", (8, 8)) == {"top": 0, "left": 0, "bottom": 4, "right": 4}
