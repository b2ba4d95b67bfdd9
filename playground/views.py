"""Building blocks both labs draw with: a numpy array as a bokeh image, rectangles, numbers and tables as HTML.

No numerics here: these only show arrays and numbers that core computed.
"""
import numpy as np
from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d
from bokeh.palettes import Greys256
from bokeh.plotting import figure

PLOT_PX = 300
# Panel renders each pane in its own shadow root, so the tables' style travels with the panes.
TABLE_CSS = """
table { border-collapse: collapse; font: 12px monospace; margin: 4px 0; }
td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
td.pad { background: #eee; color: #999; }
td.win { background: #cde; font-weight: bold; }
.dot-sum { font-weight: bold; margin-top: 4px; }
"""


def fmt(v):
    """A number as the student reads it: integers plain, others with 4 significant digits."""
    v = float(v)
    if v == int(v) and abs(v) < 1e9:
        return str(int(v))
    return f"{v:.4g}"


def matrix_html(m, css="kernel"):
    """A 2-D array as an HTML table, one cell per value."""
    rows = "".join("<tr>" + "".join(f"<td>{fmt(v)}</td>" for v in row) + "</tr>" for row in np.asarray(m))
    return f'<table class="{css}">{rows}</table>'


def image_plot(image, title, css, width=PLOT_PX, tools="tap,pan,wheel_zoom,reset"):
    """A figure showing a 2-D array with row 0 at the top; pixel (r, c) covers x in [c, c+1], y in [r, r+1]."""
    h, w = image.shape
    fig = figure(title=title, x_range=Range1d(0, w), y_range=Range1d(h, 0), tools=tools,
                 frame_width=width, frame_height=max(40, round(width * h / w)), toolbar_location="right",
                 name=css, css_classes=[css])
    mapper = LinearColorMapper(palette=Greys256, low=float(image.min()), high=float(image.max()))
    source = ColumnDataSource({"image": [image], "dw": [w], "dh": [h]}, name=css + "-source")
    fig.image(image="image", x=0, y=0, dw="dw", dh="dh", source=source, color_mapper=mapper)
    fig.axis.major_label_text_font_size = "8pt"
    return fig, source, mapper


def show_array(fig, source, mapper, array):
    """Replace the picture in one update; ranges and size follow the array's shape.

    The same array object is not sent again (the input image is 256 KB and rarely changes).
    """
    if source.data["image"][0] is array:
        return
    h, w = array.shape
    lo, hi = float(array.min()), float(array.max())
    mapper.update(low=lo, high=hi if hi > lo else lo + 1)
    if (fig.x_range.end, fig.y_range.start) != (w, h):
        fig.x_range.update(start=0, end=w)
        fig.y_range.update(start=h, end=0)
        fig.frame_height = max(40, round(fig.frame_width * h / w))
    source.data = {"image": [array], "dw": [w], "dh": [h]}


def rect_data(rect):
    """A receptive-field rectangle as quad data (empty when None)."""
    if rect is None:
        return {"left": [], "right": [], "top": [], "bottom": []}
    return {"left": [rect["left"]], "right": [rect["right"]], "top": [rect["top"]], "bottom": [rect["bottom"]]}


def tapped_pixel(event, shape):
    """(row, col) of the pixel a Tap event on an image plot of `shape` (H, W, ...) fell on, or None when it fell
    outside the image (plots put pixel (i, j) at x in [j, j+1), y in [i, i+1))."""
    if event.x is None or event.y is None:
        return None
    i, j = int(np.floor(event.y)), int(np.floor(event.x))
    return (i, j) if 0 <= i < shape[0] and 0 <= j < shape[1] else None
