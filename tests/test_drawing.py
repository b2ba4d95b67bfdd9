"""core.drawing: strokes drawn on the studio's canvas become an MNIST-like 28x28 digit (or a clear error)."""
import numpy as np
import pytest

from core import drawing


def ring(cx=14, cy=14, rx=6, ry=9, n=40):
    """An ellipse as one stroke (xs, ys) in canvas units: a drawn 0."""
    t = np.linspace(0, 2 * np.pi, n)
    return (cx + rx * np.cos(t)).tolist(), (cy + ry * np.sin(t)).tolist()


def test_drawing_is_mnist_normalised_whatever_the_scale():
    """The same shape drawn small or large, anywhere, gives the same 28x28 image: 20-pixel box, centred mass."""
    small = drawing.strokes_to_image([ring(5, 5, 2, 3)])
    large = drawing.strokes_to_image([tuple((np.asarray(v) * 10 + 100).tolist() for v in ring(5, 5, 2, 3))])
    assert small.dtype == np.uint8 and small.shape == (28, 28)
    np.testing.assert_array_equal(small, large)
    rows = np.flatnonzero(small.max(axis=1) > 0)
    assert 18 <= rows[-1] - rows[0] + 1 <= 21                   # the longest side spans about 20 pixels
    r, c = np.indices(small.shape)
    m = small.astype(float)
    assert abs((r * m).sum() / m.sum() - 13.5) <= 0.5 and abs((c * m).sum() / m.sum() - 13.5) <= 0.5


def test_a_drawn_one_is_a_vertical_bar():
    img = drawing.strokes_to_image([([10, 10], [2, 26])])
    assert img[4:24, 13:15].min() > 200 and img[:, :10].max() == 0


@pytest.mark.parametrize("strokes, why", [([], "empty"), ([([], [])], "empty"), ([([1, 2], [1])], "stroke 1"),
                                          ([("ab", "cd")], "stroke 1")])
def test_drawing_refuses_empty_or_bad_strokes(strokes, why):
    with pytest.raises(ValueError, match=why):
        drawing.strokes_to_image(strokes)
