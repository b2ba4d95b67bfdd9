"""Building blocks both labs draw with: a numpy array as a bokeh image, rectangles, numbers and tables as HTML.

No numerics here: these only show arrays and numbers that core computed.
"""
import math
import types

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, LinearColorMapper, Range1d
from bokeh.palettes import Greys256
from bokeh.plotting import figure

PLOT_PX = 300
# Monospace fonts have no Hangul: it falls back to the page's "Helvetica", which holds the Korean web font
# (static/style.css), so Korean in a table never shows as boxes.
MONO = "monospace, Helvetica"
# Panel renders each pane in its own shadow root, so the tables' style travels with the panes.
TABLE_CSS = f"""
table {{ border-collapse: collapse; font: 12px {MONO}; margin: 4px 0; }}
td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
td.pad {{ background: #eee; color: #999; }}
td.win {{ background: #cde; font-weight: bold; }}
.dot-sum {{ font-weight: bold; margin-top: 4px; }}
.scroll {{ overflow: auto; max-width: 100%; max-height: 360px; }}
table.kernel td {{ padding: 2px 4px; font-size: 11px; }}
"""
MARK_PX = 26            # a mark smaller than this on screen gets a ring of this size around it


def fmt(v, digits=4):
    """A number as the student reads it: integers plain, others with `digits` significant digits."""
    v = float(v)
    if v == int(v) and abs(v) < 1e9:
        return str(int(v))
    return f"{v:.{digits}g}"


def matrix_html(m, css="kernel", digits=4):
    """A 2-D array as an HTML table, one cell per value, in a box that scrolls when the table is wider."""
    rows = "".join("<tr>" + "".join(f"<td>{fmt(v, digits)}</td>" for v in row) + "</tr>" for row in np.asarray(m))
    return f'<div class="scroll"><table class="{css}">{rows}</table></div>'


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


def fit_title(fig):
    """Room on the right of the frame for a plot's title (drawn on the canvas from the frame's left edge, never
    wrapped, so a title longer than a narrow frame is cut off): min_border_right grows to what the title needs,
    estimated from its characters (Hangul and other wide ones about 1 em, the rest at most 0.65 em)."""
    text, size = fig.title.text or "", fig.title.text_font_size or "13px"
    em = float(size[:-2]) * (4 / 3 if size.endswith("pt") else 1)
    need = sum(em if ord(ch) >= 0x1100 else 0.65 * em for ch in text) + 4
    fig.min_border_right = max(4, round(need - fig.frame_width))


def fit_ranges(fig, xs, ys=None):
    """A curve plot's Range1d ranges over its points: x from the lowest to the highest of xs, y (unless ys is None,
    a fixed y range) from 0 or the lowest finite y to a little over the highest; its legend shown once there is a
    point. Until then the ranges stay as made (0..1): an automatic range over no data makes BokehJS warn and draw
    the empty plot without axes, and a legend over an empty plot floats over nothing."""
    xs = list(xs)
    if xs:
        fig.x_range.update(start=min(xs), end=max(xs) if max(xs) > min(xs) else min(xs) + 1)
    ys = [y for y in (ys or []) if y is not None and math.isfinite(y)]
    if ys:
        low, high = min(0.0, min(ys)), max(ys)
        fig.y_range.update(start=low, end=high + 0.05 * (high - low) if high > low else low + 1)
    if fig.legend:
        fig.legend.visible = bool(xs)


def mark(fig, name, color, fill_alpha=0.0):
    """A rectangle of pixels drawn on an image plot (its source named `name` holds rect_data), with a ring of
    MARK_PX screen pixels around it while it is smaller than that on screen (a 3x3 receptive field on a
    256-pixel photo is 3 screen pixels). Returns a namespace: source, ring (the ring's source), show(rect)."""
    source = ColumnDataSource(rect_data(None), name=name)
    fig.quad(source=source, left="left", right="right", top="top", bottom="bottom", fill_color=color,
             fill_alpha=fill_alpha, line_color=color, line_width=2)
    ring = ColumnDataSource({"x": [], "y": []})
    fig.scatter("x", "y", source=ring, marker="circle", size=MARK_PX, fill_alpha=0, line_color=color,
                line_width=2.5)

    def show(rect):
        source.data = rect_data(rect)
        px = fig.frame_width / max(fig.x_range.end - fig.x_range.start, 1)      # screen pixels per image pixel
        small = rect is not None and max(rect["right"] - rect["left"], rect["bottom"] - rect["top"]) * px < MARK_PX
        ring.data = ({"x": [(rect["left"] + rect["right"]) / 2], "y": [(rect["top"] + rect["bottom"]) / 2]}
                     if small else {"x": [], "y": []})

    return types.SimpleNamespace(source=source, ring=ring, show=show)


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


class _GuardedFileInput(pn.widgets.FileInput):
    """Panel's FileInput, with its `tags` synced back from the page too (Panel sends them one way only)."""

    @property
    def _linked_properties(self):
        return super()._linked_properties + ("tags",)


def file_input(accept, max_bytes, **kwargs):
    """A FileInput the page guards: the page (static/app.js) refuses a file larger than `max_bytes` before
    reading it (a 100 MB photo would otherwise travel to Python as a 140 MB string and fail there) and reports
    it by setting the widget's tags to [{"max_bytes": N, "refused": {"name": str, "bytes": int}}]: watch
    `tags` and read them with `refused_file`."""
    return _GuardedFileInput(accept=accept, multiple=False, tags=[{"max_bytes": int(max_bytes)}], **kwargs)


def refused_file(widget):
    """{"name", "bytes"} of the file the page refused (see `file_input`), or None; the widget is reset so the
    same file refused again is reported again."""
    tags = widget.tags
    refused = tags[0].get("refused") if tags and isinstance(tags[0], dict) else None
    if not isinstance(refused, dict):
        return None
    widget.tags = [{"max_bytes": tags[0].get("max_bytes")}]
    name, size = refused.get("name"), refused.get("bytes")
    if not isinstance(name, str) or isinstance(size, bool) or not isinstance(size, (int, float)):
        return None
    return {"name": name[:200], "bytes": size}
