"""core.segmentation: per-pixel masks made from MNIST-like digits, one per image or two in a 56x56 canvas."""
import numpy as np
import pytest

from core import segmentation


def digits(n=20, seed=0):
    """MNIST-shaped stand-ins: uint8 (n, 28, 28) with a bright bar per image (its row says which) and labels."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        images[i, 4 + i % 20, 3:25] = rng.integers(130, 256)
        images[i, 2, 2] = 100                       # faint ink, under the default threshold (0.5 of white)
    return images, (np.arange(n) % 10).astype(np.uint8)


def test_single_masks_label_bright_pixels_with_the_digits_class():
    images, labels = digits()
    x, masks = segmentation.single(images, labels)
    assert x.shape == (20, 28, 28, 1) and x.dtype == np.float32 and x.max() <= 1.0
    assert masks.shape == (20, 28, 28) and masks.dtype == np.uint8
    for i in range(20):
        want = np.where(images[i] > 127.5, labels[i] + 1, 0)
        np.testing.assert_array_equal(masks[i], want)
    assert masks[:, 2, 2].max() == 0                 # the faint pixel is background
    assert segmentation.masks(images, labels, threshold=0.3)[:, 2, 2].tolist() == (labels + 1).tolist()
    assert segmentation.CLASSES == 11 and segmentation.class_of_digit(9) == 10


def test_pairs_are_deterministic_in_the_seed_and_hold_two_digits():
    images, labels = digits()
    x1, m1 = segmentation.pairs(images, labels, n=12, seed=3)
    x2, m2 = segmentation.pairs(images, labels, n=12, seed=3)
    x3, _ = segmentation.pairs(images, labels, n=12, seed=4)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(m1, m2)
    assert not np.array_equal(x1, x3)
    assert x1.shape == (12, 56, 56, 1) and m1.shape == (12, 56, 56)
    for i in range(12):
        classes = set(np.unique(m1[i])) - {0}
        assert 1 <= len(classes) <= 2                       # two digits (one class if both are the same digit)
        np.testing.assert_array_equal(m1[i] > 0, x1[i, :, :, 0] > 0.5)    # labelled exactly where ink is bright


def test_overlaps_go_to_the_brighter_ink_and_ties_to_the_first_digit():
    a = np.zeros((2, 28, 28), np.uint8)
    a[0, :, :] = 200                                        # digit 3: all ink at 200
    a[1, :14, :] = 250                                      # digit 7: top half brighter, bottom half equal
    a[1, 14:, :] = 200
    labels = np.array([3, 7], np.uint8)
    x, m, src = segmentation.pairs(a, labels, n=40, seed=0, size=28, return_sources=True)   # both cover it all
    np.testing.assert_array_equal(src["at"], 0)
    assert set(src["index"][:, 0]) == {0, 1}                # each digit comes first in some canvas
    for i in range(40):
        np.testing.assert_allclose(x[i, :14, :, 0], 250 / 255)     # the brighter ink is seen...
        assert (m[i, :14] == 8).all()                              # ...and labelled, whichever came first
        first = labels[src["index"][i, 0]]
        assert (m[i, 14:] == first + 1).all()                      # a tie goes to the first digit


def test_sources_say_where_each_digit_went():
    images, labels = digits()
    x, m, src = segmentation.pairs(images, labels, n=5, seed=1, return_sources=True)
    for i in range(5):
        j, k = src["index"][i]
        assert j != k
        (r, c), (r2, c2) = src["at"][i]
        assert 0 <= r <= 28 and 0 <= c2 <= 28
        seen = x[i, r:r + 28, c:c + 28, 0]
        assert (seen >= images[j] / 255 - 1e-7).all()            # the canvas holds at least each digit's ink
        assert (x[i, r2:r2 + 28, c2:c2 + 28, 0] >= images[k] / 255 - 1e-7).all()


@pytest.mark.parametrize("call,match", [
    (lambda im, lb: segmentation.single(im[:, :, :, None], lb), r"images must be \(N, H, W\)"),
    (lambda im, lb: segmentation.single(im, lb[:3]), r"need labels of shape \(20,\)"),
    (lambda im, lb: segmentation.masks(im, lb.astype(float)), "labels must be digits 0-9"),
    (lambda im, lb: segmentation.masks(im, lb + 5), "labels must be digits 0-9"),
    (lambda im, lb: segmentation.masks(im, lb, threshold=1.5), "threshold must be a number between 0 and 1"),
    (lambda im, lb: segmentation.masks(im, lb, threshold="0.5"), "threshold must be a number between 0 and 1"),
    (lambda im, lb: segmentation.single(im * 2.0, lb), r"images must be uint8 or floats in \[0, 1\]"),
    (lambda im, lb: segmentation.pairs(im, lb, n=0), "n must be a positive int"),
    (lambda im, lb: segmentation.pairs(im, lb, n=3, size=20), "size must be an int of at least the digits' 28"),
    (lambda im, lb: segmentation.pairs(im[:1], lb[:1], n=3), "needs at least 2 images"),
])
def test_bad_input_is_refused_by_name(call, match):
    images, labels = digits()
    with pytest.raises(ValueError, match=match):
        call(images, labels)
