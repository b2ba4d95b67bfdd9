"""playground.visual: filters, feature maps and digits arranged as one mosaic image for one plot."""
import numpy as np
import pytest

from playground import visual


def test_mosaic_places_each_tile_scaled_with_nan_gaps():
    tiles = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3)
    m = visual.mosaic(tiles, cols=3)
    assert m.shape == (2 * 2 + 1, 3 * 3 + 2)
    np.testing.assert_allclose(m[3:5, 0:3], (tiles[3] - tiles[3].min()) / (tiles[3].max() - tiles[3].min()))
    assert np.isnan(m[2]).all() and np.isnan(m[:, 3]).all() and np.isnan(m[3:, 8:]).all()   # gaps, empty cell
    assert visual.tile_origin(4, (2, 3), 3) == (3, 4)
    np.testing.assert_array_equal(visual.mosaic(tiles, scale_each=False)[0:2, 0:3], tiles[0])


def test_channel_stack_shapes():
    assert visual.channel_stack(np.zeros((5, 4, 3))).shape == (3, 5, 4)
    assert visual.channel_stack(np.zeros((1, 1, 120))).shape == (1, 8, 16)
    v = visual.channel_stack(np.arange(10.0), row=4)
    assert v.shape == (1, 3, 4) and np.isnan(v[0, 2, 2:]).all()
    with pytest.raises(ValueError, match="channel_stack"):
        visual.channel_stack(np.zeros((2, 2)))


def test_normalise_scales_a_tile_on_its_own_and_keeps_nan_gaps():
    tile = np.array([[2.0, 4.0], [np.nan, 6.0]], np.float32)
    np.testing.assert_array_equal(visual.normalise(tile), [[0.0, 0.5], [np.nan, 1.0]])
    flat = visual.normalise(np.array([[3.0, np.nan]], np.float32))
    assert flat[0, 0] == 0 and np.isnan(flat[0, 1]) and flat.dtype == np.float32


def test_mosaic_refuses_anything_but_a_stack_of_tiles():
    for bad in (np.zeros((4, 4)), np.zeros((0, 2, 2))):
        with pytest.raises(ValueError, match="mosaic"):
            visual.mosaic(bad)
