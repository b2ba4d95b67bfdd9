"""Heatmaps for the learning labs: a tensor's values as colours, each number on hover.

    h = heatmap("dL/dK", "bp-kernel-grad", shape=(3, 7))
    show(h, playground.visual.mosaic(stack, cols=2, scale_each=False))    # NaN cells (gaps) are grey

Signed values (gradients, velocities, steps) use a diverging palette centred on 0 (blue negative, red positive);
`signed=False` (squared-gradient accumulators, second moments) a sequential one from 0. Display only: the arrays
come from core. Pixel (r, c) covers x in [c, c+1], y in [r, r+1], row 0 at the top, as views.image_plot draws.
"""
import types

import numpy as np
from bokeh.models import ColumnDataSource, HoverTool, Image, LinearColorMapper, Plot, Quad, Range1d, Title
from bokeh.palettes import RdBu11, Viridis256

from . import views, visual

CELL_PX = 22                    # screen pixels per cell of a small tensor
MAX_PX = 360                    # a wide mosaic is shrunk to this


def heatmap(title, css, shape=(1, 1), signed=True, cell=CELL_PX):
    """An empty heatmap named `css` (its source `css`-source) for arrays of about `shape` (rows, cols). A bare
    Plot, not a figure: no axes, grids or toolbar to build, so a room with twenty of them opens twice as fast."""
    h, w = shape
    px = cell if w * cell <= MAX_PX else max(4, MAX_PX // w)
    fig = Plot(title=Title(text=title, text_font_size="9pt"), x_range=Range1d(0, w), y_range=Range1d(h, 0),
               frame_width=max(40, w * px), frame_height=max(20, h * px), toolbar_location=None, min_border=4,
               name=css, css_classes=[css])
    views.fit_title(fig)
    mapper = LinearColorMapper(palette=tuple(reversed(RdBu11)) if signed else Viridis256, low=-1 if signed else 0,
                               high=1, nan_color="#e0e0e0")
    source = ColumnDataSource({"image": [np.full(shape, np.nan, np.float32)], "dw": [w], "dh": [h]},
                              name=css + "-source")
    image = fig.add_glyph(source, Image(image="image", x=0, y=0, dw="dw", dh="dh", color_mapper=mapper))
    fig.add_tools(HoverTool(renderers=[image], tooltips=[("row, col", "$y{0}, $x{0}"), ("value", "@image{0.[0000]}")]))
    return types.SimpleNamespace(figure=fig, source=source, mapper=mapper, signed=signed, px=px)


def outline(h, name, **style):
    """A rectangle drawn over heatmap h (a named source with left/right/top/bottom, empty at first): the selected
    cell or block."""
    source = ColumnDataSource({"left": [], "right": [], "top": [], "bottom": []}, name=name)
    h.figure.add_glyph(source, Quad(left="left", right="right", top="top", bottom="bottom", **style))
    return source


def show(h, array, title=None):
    """Draw a 2-D array (NaN for gaps); the colour range covers its values (symmetric about 0 when signed)."""
    array = np.asarray(array, np.float32)
    rows, cols = array.shape
    finite = array[np.isfinite(array)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    low = -top if h.signed else (float(finite.min()) if finite.size else 0.0)
    h.mapper.update(low=low, high=top if top > low else low + 1e-12)
    fig = h.figure
    if (fig.x_range.end, fig.y_range.start) != (cols, rows):
        px = h.px if cols * h.px <= MAX_PX else max(4, MAX_PX // cols)
        fig.x_range.update(start=0, end=cols)
        fig.y_range.update(start=rows, end=0)
        fig.frame_width, fig.frame_height = max(40, cols * px), max(20, rows * px)
    h.source.data = {"image": [array], "dw": [cols], "dh": [rows]}
    if title is not None:
        fig.title.text = title
    views.fit_title(fig)


def tiles(tensor):
    """One example's tensor as one picture: (H, W, C) -> its C maps in a row with NaN gaps; (n,) -> a row of n;
    (rows, cols) as it is; a kernel (h, w, C, F) -> its F filters (channel 0) in a row. Values kept as they are."""
    a = np.asarray(tensor, np.float32)
    if a.ndim == 1:
        return a[None, :]
    if a.ndim == 2:                       # a dense kernel (in, units): as it is
        return a
    if a.ndim == 4:
        a = a[:, :, 0, :]
    stack = visual.channel_stack(a)
    return visual.mosaic(stack, cols=len(stack), scale_each=False)


def tile_pixel(tensor_shape, r, c):
    """(row, col, channel) of the tensor under cell (r, c) of tiles(tensor), or None in a gap or outside."""
    if len(tensor_shape) == 1:
        return (0, c, 0) if r == 0 and 0 <= c < tensor_shape[0] else None
    h, w = tensor_shape[:2]
    n = tensor_shape[-1]
    k, j = divmod(c, w + 1)
    if not (0 <= r < h and 0 <= k < n and j < w):
        return None
    return r, j, k
