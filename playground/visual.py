"""Arranging many small pictures (filters, feature maps, digits) into one array for one image plot.

    visual.mosaic(stack)                 # (N, h, w) -> 2-D array of N tiles, NaN gaps between them
    visual.channel_stack(activation)     # (H, W, C) -> (C, H, W); a vector (n,) -> one tile of rows

NumPy only (runs under Pyodide).
"""
import math

import numpy as np


def channel_stack(a, row=16):
    """One example's layer output as tiles: (H, W, C) -> (C, H, W); (n,) or (1, 1, n) -> (1, ceil(n/row), row),
    NaN-padded."""
    a = np.asarray(a, np.float32)
    if a.ndim == 3 and a.shape[0] * a.shape[1] == 1:
        a = a.reshape(-1)                  # 1x1 maps (LeNet's C5) read better as one vector than as 1-pixel tiles
    if a.ndim == 3:
        return np.moveaxis(a, -1, 0)
    if a.ndim == 1:
        width = min(row, len(a))
        out = np.full(math.ceil(len(a) / width) * width, np.nan, np.float32)
        out[:len(a)] = a
        return out.reshape(1, -1, width)
    raise ValueError(f"channel_stack: expects one example's output (H, W, C) or (n,), got shape {a.shape}")


def normalise(tile):
    """Scale a tile to [0, 1] by its own min and max (a constant tile becomes 0); NaNs stay NaN."""
    lo, hi = np.nanmin(tile), np.nanmax(tile)
    return (tile - lo) / (hi - lo) if hi > lo else np.where(np.isnan(tile), np.nan, 0.0).astype(tile.dtype)


def mosaic(stack, cols=None, gap=1, scale_each=True):
    """(N, h, w) tiles -> (rows*(h+gap)-gap, cols*(w+gap)-gap) float32, row-major, NaN in gaps and empty cells.

    cols defaults to ceil(sqrt(N)). scale_each scales every tile to [0, 1] on its own (so weak maps stay visible).
    """
    stack = np.asarray(stack, np.float32)
    if stack.ndim != 3 or not len(stack):
        raise ValueError(f"mosaic: expects tiles (N, h, w) with N >= 1, got shape {stack.shape}")
    n, h, w = stack.shape
    cols = max(1, min(n, cols or math.ceil(math.sqrt(n))))
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, np.float32)
    with np.errstate(invalid="ignore"):
        for i, tile in enumerate(stack):
            top, left = tile_origin(i, (h, w), cols, gap)
            out[top:top + h, left:left + w] = normalise(tile) if scale_each else tile
    return out


def tile_origin(i, shape, cols, gap=1):
    """(row, col) of tile i's top-left corner in a mosaic of tiles of `shape` (h, w) with `cols` columns."""
    r, c = divmod(i, cols)
    return r * (shape[0] + gap), c * (shape[1] + gap)
