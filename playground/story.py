"""Story (이야기): the lecture's arc in short illustrated sections, the first tab of the page.

Storyboard, one section each, every one ending in a live widget or a "try it" link that opens a lab with the
right settings (a link to a room the page does not have is plain text, never a broken link):
1. mlp        an MLP flattens the image: 256×256×3 -> 196,608 inputs (Flatten's output shape), a Dense layer's
              weights; widget: image side, channels, units.
2. filters    hand-designed filters (Gaussian, Sobel, Laplacian, drawn from core.filters) vs learning them.
3. receptive  a receptive field, and how it grows through stacked layers (core.receptive); widget: layers, kernel.
4. sharing    weight sharing: k'(k·h·h+1) weights against a dense layer (core.arithmetic); widget: h, k, k', side.
5. cost       the lecture's two worked multiplication counts, read from a core model's layer_table.
6. pooling    max vs average pooling of one 4×4 example (core.pooling); widget: the kind.
7. lenet      LeNet-5's C-P-C-P-C-FC-FC and its 61,706 weights, per layer from core.models.lenet5().
8. learning   backpropagation, losses, optimizers, regularization and other shapes of network: links to their labs.
9. history    a Bokeh timeline from the Neocognitron to ResNet and GANs, with a lane for why it worked.

Every number is computed by core when the section is drawn; the text is in i18n.py. `static_html(lang)` is the
same story without widgets, as plain HTML the site's build puts into index.html, so the story reads before
Python has started. Links are `urlstate.encode` hashes: the page restores them like any URL.
"""
import functools
import html
import types

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, Div, HoverTool, LabelSet, Range1d
from bokeh.plotting import figure

from core import arithmetic, filters, layers, models, pooling, receptive
from . import i18n, urlstate

# ---------------------------------------------------------------- the sections and their links

# (section key, title key, text key); the text keys take the numbers `section_numbers` computes.
SECTIONS = (
    ("mlp", "story_mlp_title", "story_mlp_text"),
    ("filters", "story_filters_title", "story_filters_text"),
    ("receptive", "story_receptive_title", "story_receptive_text"),
    ("sharing", "story_sharing_title", "story_sharing_text"),
    ("cost", "story_cost_title", "story_cost_text"),
    ("pooling", "story_pooling_title", "story_pooling_text"),
    ("lenet", "story_lenet_title", "story_lenet_text"),
    ("learning", "story_learning_title", "story_learning_text"),
    ("history", "story_history_title", "story_history_text"),
)

# Each section's "try it" links: (label key, room key, the settings the room's restore() takes).
LINKS = {
    "mlp": (("story_try_networks", "networks", {}), ("story_try_conv_numbers", "conv", {})),
    "filters": (("story_try_sobel", "conv", {"filter": "sobel_x"}), ("story_try_canny", "conv", {"filter": "canny"}),
                ("story_try_learned", "studio", {})),
    "receptive": (("story_try_receptive", "conv", {"filter": "gaussian", "size": 5}),),
    "sharing": (("story_try_sharing", "conv", {"filter": "sobel_x", "extra": ["sobel_y", "laplacian"]}),),
    "cost": (("story_try_cost", "conv", {"filter": "gaussian", "size": 3, "stride": 2, "padding": "same"}),),
    "pooling": (("story_try_max", "pool", {"kind": "max"}), ("story_try_avg", "pool", {"kind": "avg"})),
    "lenet": (("story_try_lenet", "studio", {}),),
    "learning": (("story_try_backprop", "backprop", {}), ("story_try_losses", "losses", {}),
                 ("story_try_optimizers", "optimizers", {}), ("story_try_regularization", "regularization", {}),
                 ("story_try_structures", "networks", {}), ("story_try_learned", "studio", {})),
    "history": (("story_try_adam", "optimizers", {}), ("story_try_crossentropy", "losses", {}),
                ("story_try_dropout", "regularization", {})),
}

# The lecture's first two layers (its worked example of a convolution layer's cost).
LECTURE_INPUT = (256, 256, 3)
LECTURE_LAYERS = ((64, 3), (128, 5))      # (filters, kernel size), stride 2, zero padding
POOL_EXAMPLE = np.array([[1, 3, 2, 0], [5, 6, 1, 2], [7, 2, 9, 4], [0, 1, 3, 8]], np.float32)

# The history: (year, lane, level, label key, detail key). Lane 1: the lecture's milestones; lane 0: why it
# worked. Levels stack labels of the same years (display only).
TIMELINE = (
    (1980, 1, 0, "story_tl_neocognitron", "story_tl_neocognitron_detail"),
    (1998, 1, 0, "story_tl_lenet", "story_tl_lenet_detail"),
    (2010, 1, 0, "story_tl_imagenet", "story_tl_imagenet_detail"),
    (2012, 1, 1, "story_tl_alexnet", "story_tl_alexnet_detail"),
    (2014, 1, 2, "story_tl_vgg", "story_tl_vgg_detail"),
    (2014, 1, 3, "story_tl_gan", "story_tl_gan_detail"),
    (2015, 1, 4, "story_tl_resnet", "story_tl_resnet_detail"),
    (2007, 0, 0, "story_tl_gpu", "story_tl_gpu_detail"),
    (2010, 0, 1, "story_tl_data", "story_tl_data_detail"),
    (2010, 0, 2, "story_tl_relu", "story_tl_relu_detail"),
    (2012, 0, 3, "story_tl_crossentropy", "story_tl_crossentropy_detail"),
    (2012, 0, 4, "story_tl_dropout", "story_tl_dropout_detail"),
    (2014, 0, 5, "story_tl_adam", "story_tl_adam_detail"),
)
LEVELS = 6          # label rows per lane (the years 2010-2015 crowd: one row each)

# The live widgets' settings: defaults and what restore() accepts (the lecture's numbers are the defaults).
SIDES = (28, 32, 64, 128, 224, 256, 512)
DEFAULTS = {"mlp_side": 256, "mlp_channels": 3, "mlp_units": 100, "rf_layers": 2, "rf_kernel": 3,
            "ws_h": 3, "ws_k": 3, "ws_filters": 64, "ws_side": 256, "pool_kind": "max"}
def whole(lo, hi):
    return functools.partial(urlstate.number, lo=lo, hi=hi, integer=True)


def one_of(*options):
    return functools.partial(urlstate.choice, options=options)


CHECKS = {"mlp_side": one_of(*SIDES), "mlp_channels": one_of(1, 3), "mlp_units": whole(1, 1000),
          "rf_layers": whole(1, 6), "rf_kernel": one_of(3, 5, 7), "ws_h": one_of(1, 3, 5, 7),
          "ws_k": whole(1, 512), "ws_filters": whole(1, 512), "ws_side": one_of(*SIDES),
          "pool_kind": one_of("max", "avg")}


# ---------------------------------------------------------------- pure functions: the numbers, from core

def mlp_numbers(side, channels, units):
    """An image side×side×channels flattened into a Dense(units): {inputs, params} from the model's layer_table."""
    model = models.Sequential([layers.Input((side, side, channels)), layers.Flatten(), layers.Dense(units)])
    flat, dense = model.layer_table()
    return {"side": side, "channels": channels, "units": units, "inputs": flat["output_shape"][0],
            "params": dense["params"]}


def receptive_numbers(n_layers, kernel):
    """One output pixel after n stacked kernel×kernel layers (stride 1) sees size×size input pixels."""
    return {"layers": n_layers, "k": kernel, "size": receptive.stacked_size(*[kernel] * n_layers),
            "sizes": [receptive.stacked_size(*[kernel] * n) for n in range(1, n_layers + 1)]}


def sharing_numbers(h, k, filters_out, side):
    """A Conv2D of k' h×h×k filters against a dense layer that maps side×side×k to side×side×k'."""
    conv_w = arithmetic.conv_params((h, h), k, filters_out)
    dense_w = arithmetic.dense_params(side * side * k, side * side * filters_out)
    return {"h": h, "k": k, "k2": filters_out, "side": side, "conv": conv_w, "dense": dense_w,
            "ratio": dense_w // conv_w}


def lecture_cost():
    """The lecture's two layers as a core model; per layer: shapes, the per-position cost h·w·k+1 and the
    multiplications, all read from layer_table (Ho·Wo·(h·w·k+1)·k' is what it counts)."""
    model = models.Sequential([layers.Input(LECTURE_INPUT)] + [
        layers.Conv2D(f, k, strides=2, padding="same", name=f"conv{n + 1}") for n, (f, k) in enumerate(LECTURE_LAYERS)])
    return layer_rows(model)


def layer_rows(model):
    """One dict per layer with weights: name, kind, input/output shape, kernel (h, w), params, mults and the
    lecture's factors (per position: h·w·k+1 for a Conv2D, in+1 for a Dense)."""
    configs = {c["name"]: c["config"] for c in model.get_config()["layers"]}
    rows, shape = [], tuple(model.input_shape)
    for row in model.layer_table():
        out = dict(row, input_shape=shape)
        if row["kind"] == "Conv2D":
            h, w = configs[row["name"]]["kernel_size"]
            out.update(h=h, w=w, k=shape[-1], per=h * w * shape[-1] + 1)
        elif row["kind"] == "Dense":
            out.update(k=shape[-1], per=shape[-1] + 1)
        rows.append(out)
        shape = tuple(row["output_shape"])
    return rows


def lenet_numbers():
    model = models.lenet5()
    return {"rows": layer_rows(model), "total": model.count_params()}


def pooling_example(kind):
    """The 4×4 example pooled 2×2 (stride 2): {input, output (2, 2), winners [(r, c)] (max only)}."""
    x = POOL_EXAMPLE[None, :, :, None]
    if kind == "max":
        out, _ = pooling.max_pool_forward(x, 2, 2)
        rows, cols = pooling.max_pool_argmax(x, 2, 2)
        winners = list(zip(rows.ravel().tolist(), cols.ravel().tolist()))
    else:
        out, _ = pooling.avg_pool_forward(x, 2, 2)
        winners = []
    return {"input": POOL_EXAMPLE, "output": out[0, :, :, 0], "winners": winners, "kind": kind}


def section_numbers():
    """The numbers the sections' texts quote, at the lecture's settings."""
    mlp = mlp_numbers(256, 3, DEFAULTS["mlp_units"])
    cost = lecture_cost()
    lenet = lenet_numbers()
    return {"inputs": mlp["inputs"], "mults1": cost[0]["mults"], "mults2": cost[1]["mults"],
            "total": lenet["total"], "rf": receptive.stacked_size(3, 3)}


# ---------------------------------------------------------------- pure functions: text and pictures

def fmt_shape(shape):
    return "×".join(str(s) for s in shape)


def link_html(lang, label_key, tab, state, tabs):
    """A "try it" link to room `tab` with `state`; plain text when the page has no such room (yet)."""
    label = html.escape(i18n.text(lang, label_key))
    if tab not in tabs:
        return f'<span class="story-soon">{label} {html.escape(i18n.text(lang, "story_soon"))}</span>'
    href = html.escape(urlstate.encode(tab, None, state), quote=True)
    return f'<a class="story-link" href="{href}">{label} →</a>'


def links_html(lang, key, tabs):
    items = "".join(f"<li>{link_html(lang, label, tab, state, tabs)}</li>" for label, tab, state in LINKS[key])
    return f'<ul class="story-links">{items}</ul>'


def mlp_result(lang, n):
    return i18n.text(lang, "story_mlp_result", size=fmt_shape((n["side"], n["side"], n["channels"])),
                     inputs=n["inputs"], units=n["units"], params=n["params"])


def receptive_result(lang, n):
    return i18n.text(lang, "story_receptive_result", layers=n["layers"], k=n["k"], size=n["size"])


def sharing_result(lang, n):
    return i18n.text(lang, "story_sharing_result", **n)


def cost_html(lang, rows):
    lines = "".join(
        "<li>" + i18n.text(lang, "story_cost_row", name=r["name"], inp=fmt_shape(r["input_shape"]),
                           out=fmt_shape(r["output_shape"]), ho=r["output_shape"][0], wo=r["output_shape"][1],
                           per=r["per"], f=r["output_shape"][2], h=r["h"], w=r["w"], k=r["k"], mults=r["mults"])
        + "</li>" for r in rows)
    return f'<ul class="story-numbers">{lines}</ul>'


def lenet_html(lang, n):
    lines = []
    for r in n["rows"]:
        if r["kind"] == "Conv2D":
            lines.append(i18n.text(lang, "story_lenet_conv", name=r["name"], h=r["h"], w=r["w"], k=r["k"],
                                   f=r["output_shape"][-1], params=r["params"]))
        elif r["kind"] == "Dense":
            lines.append(i18n.text(lang, "story_lenet_dense", name=r["name"], k=r["k"], f=r["output_shape"][-1],
                                   params=r["params"]))
    items = "".join(f"<li>{line}</li>" for line in lines)
    total = i18n.text(lang, "story_lenet_total", total=n["total"])
    return f'<ul class="story-numbers">{items}</ul><p><b>{total}</b></p>'


def pooling_result(lang, ex):
    out = ex["output"]
    values = ", ".join(f"{v:g}" for v in out.ravel())
    return i18n.text(lang, "story_pooling_result", kind=i18n.text(lang, "pool_" + ex["kind"]), values=values)


# Pictures: small inline SVGs (no script, so the site's CSP allows them) drawn from the numbers above.

def svg(width, height, body, label):
    return (f'<svg class="story-svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{html.escape(label, quote=True)}" xmlns="http://www.w3.org/2000/svg">{body}</svg>')


def shade(v, lo, hi, signed=False):
    """A fill colour for value v: greys from lo to hi, or blue (negative) to red (positive) when signed."""
    if signed:
        m = max(abs(lo), abs(hi)) or 1.0
        t = max(-1.0, min(1.0, float(v) / m))
        r, g, b = (255, round(255 * (1 - t)), round(255 * (1 - t))) if t >= 0 else \
            (round(255 * (1 + t)), round(255 * (1 + t)), 255)
        return f"rgb({r},{g},{b})"
    if hi == lo:
        return "rgb(246,246,246)"       # a blank grid (the pictures' inputs): pale, so marks on it read
    t = (float(v) - lo) / (hi - lo)
    g = round(40 + 200 * t)
    return f"rgb({g},{g},{g})"


def grid(values, x, y, cell, numbers=False, signed=False, marks=(), mark="#e4572e"):
    """An array as a grid of shaded cells at (x, y); `marks` [(r, c)] outlined in `mark`."""
    a = np.asarray(values, np.float64)
    lo, hi = float(a.min()), float(a.max())
    parts = []
    for (r, c), v in np.ndenumerate(a):
        parts.append(f'<rect x="{x + c * cell}" y="{y + r * cell}" width="{cell}" height="{cell}" '
                     f'fill="{shade(v, lo, hi, signed)}" stroke="#999" stroke-width="0.5"/>')
        if numbers:
            if signed:          # white on a strong red or blue, black on the pale ones
                dark = abs(float(v)) > 0.6 * (max(abs(lo), abs(hi)) or 1.0)
            else:
                dark = hi != lo and (v - lo) / (hi - lo) < 0.55
            parts.append(f'<text x="{x + c * cell + cell / 2}" y="{y + r * cell + cell / 2 + 4}" font-size="11" '
                         f'text-anchor="middle" fill="{"#fff" if dark else "#000"}">{v:g}</text>')
    for r, c in marks:
        parts.append(f'<rect x="{x + c * cell}" y="{y + r * cell}" width="{cell}" height="{cell}" fill="none" '
                     f'stroke="{mark}" stroke-width="2.5"/>')
    return "".join(parts)


def arrow(x1, y1, x2, y2):
    return (f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#555" stroke-width="1.5"/>'
            f'<polygon points="{x2},{y2} {x2 - 7},{y2 - 4} {x2 - 7},{y2 + 4}" fill="#555"/>')


def text_at(x, y, words, size=11, anchor="start", weight="normal"):
    return (f'<text x="{x}" y="{y}" font-size="{size}" text-anchor="{anchor}" font-weight="{weight}" '
            f'fill="#333">{html.escape(str(words))}</text>')


def svg_flatten(lang):
    """A 4×4 picture and the same 16 pixels in one row, as an MLP sees them."""
    img = np.arange(16).reshape(4, 4)
    body = grid(img, 10, 10, 16) + arrow(84, 42, 120, 42) + grid(img.reshape(1, 16), 128, 34, 14)
    body += text_at(10, 90, "4×4") + text_at(128, 70, "16 × 1")
    return svg(360, 100, body, i18n.text(lang, "story_mlp_title"))


def svg_filters(lang):
    """Three designed kernels from core.filters (red positive, blue negative)."""
    kernels = (("f_gaussian", filters.gaussian(5, 1.0), 14), ("f_sobel_x", filters.sobel_x(), 22),
               ("f_laplacian", filters.laplacian(), 22))
    body, x = "", 10
    for key, k, cell in kernels:
        body += grid(k, x, 10, cell, numbers=cell > 20, signed=True)
        body += text_at(x, 96, i18n.text(lang, key), size=10)
        x += k.shape[1] * cell + 30
    return svg(x, 104, body, i18n.text(lang, "story_filters_title"))


def svg_receptive(lang, n):
    """The input pixels one output pixel sees, growing layer by layer (nested squares)."""
    side = n["size"] + 2
    cell = max(6, min(20, 180 // side))
    body = grid(np.zeros((side, side)), 10, 10, cell)
    centre = side // 2
    colours = ("#e4572e", "#f3a712", "#29335c", "#669bbc", "#a8c686", "#8d6a9f")
    for depth, size in reversed(list(enumerate(n["sizes"]))):
        top = centre - size // 2
        body += (f'<rect x="{10 + top * cell}" y="{10 + top * cell}" width="{size * cell}" height="{size * cell}" '
                 f'fill="{colours[depth % len(colours)]}" fill-opacity="0.35" stroke="{colours[depth % len(colours)]}" '
                 f'stroke-width="2"/>')
    body += (f'<rect x="{10 + centre * cell}" y="{10 + centre * cell}" width="{cell}" height="{cell}" '
             f'fill="#111"/>')
    extent = 20 + side * cell
    return svg(extent, extent, body, receptive_result(lang, n))


def svg_sharing(lang):
    """One 3×3 filter slid over a 6×6 input: two windows, the same nine weights, two output pixels."""
    body = grid(np.zeros((6, 6)), 10, 10, 16) + grid(np.zeros((4, 4)), 230, 26, 16)
    for (r, c), colour in (((0, 0), "#e4572e"), ((2, 3), "#29335c")):
        body += (f'<rect x="{10 + c * 16}" y="{10 + r * 16}" width="48" height="48" fill="{colour}" '
                 f'fill-opacity="0.25" stroke="{colour}" stroke-width="2"/>')
        body += (f'<rect x="{230 + c * 16}" y="{26 + r * 16}" width="16" height="16" fill="{colour}"/>')
    body += grid(filters.sobel_x(), 130, 26, 16, signed=True) + text_at(130, 90, "3×3", size=10)
    body += arrow(112, 58, 126, 58) + arrow(184, 58, 224, 58)
    return svg(310, 112, body, i18n.text(lang, "story_sharing_title"))


def svg_tensors(lang, rows):
    """The lecture's tensors as boxes: height from the side, width from the depth."""
    shapes = [rows[0]["input_shape"]] + [r["output_shape"] for r in rows]
    body, x = "", 10
    for shape in shapes:
        h = max(8, round(shape[0] / 256 * 100))
        w = max(6, round(np.log2(shape[2] + 1) * 6))
        body += (f'<rect x="{x}" y="{10 + (100 - h) / 2}" width="{w}" height="{h}" fill="#669bbc" '
                 f'fill-opacity="0.5" stroke="#29335c"/>')
        body += text_at(x, 128, fmt_shape(shape), size=10)
        x += max(w, 70) + 20
    return svg(x, 136, body, i18n.text(lang, "story_cost_title"))


def svg_pooling(lang, ex):
    """The 4×4 example, its four 2×2 windows and the pooled 2×2 (max: the winners outlined)."""
    body = grid(ex["input"], 10, 10, 24, numbers=True, marks=ex["winners"])
    body += ('<line x1="58" y1="10" x2="58" y2="106" stroke="#111" stroke-width="2"/>'
             '<line x1="10" y1="58" x2="106" y2="58" stroke="#111" stroke-width="2"/>')
    body += arrow(116, 58, 150, 58) + grid(ex["output"], 160, 34, 24, numbers=True)
    return svg(230, 116, body, pooling_result(lang, ex))


def svg_lenet(lang, n):
    """LeNet-5's layers as boxes with their output shapes."""
    body, x = "", 10
    for r in n["rows"]:
        shape = r["output_shape"]
        h = max(10, round(shape[0] / 32 * 80)) if len(shape) == 3 else max(10, round(shape[0] / 120 * 80))
        fill = {"Conv2D": "#669bbc", "MaxPooling2D": "#a8c686", "Dense": "#f3a712"}.get(r["kind"], "#ccc")
        body += (f'<rect x="{x}" y="{10 + (80 - h) / 2}" width="34" height="{h}" fill="{fill}" fill-opacity="0.6" '
                 f'stroke="#29335c"/>')
        body += text_at(x + 17, 108, r["name"], size=10, anchor="middle")
        body += text_at(x + 17, 122, fmt_shape(shape), size=9, anchor="middle")
        x += 58
    return svg(x, 130, body, i18n.text(lang, "story_lenet_title"))


def svg_timeline(lang):
    """The Bokeh timeline's data as a static SVG (for the page before Python starts)."""
    x0, x1, width, axis = 1976, 2024, 820, 30 + LEVELS * 16
    px = lambda year: 20 + (year - x0) / (x1 - x0) * (width - 40)   # noqa: E731
    body = f'<line x1="20" y1="{axis}" x2="{width - 20}" y2="{axis}" stroke="#333"/>'
    for year in range(1980, 2025, 5):
        body += text_at(px(year), axis + 16, year, size=10, anchor="middle")
    for year, lane, level, label, _ in TIMELINE:
        y = axis - 20 - level * 16 if lane else axis + 40 + level * 16
        colour = "#29335c" if lane else "#e4572e"
        body += f'<circle cx="{px(year)}" cy="{axis}" r="4" fill="{colour}"/>'
        body += f'<line x1="{px(year)}" y1="{axis}" x2="{px(year)}" y2="{y}" stroke="{colour}" stroke-opacity="0.4"/>'
        body += text_at(px(year) + 3, y + (0 if lane else 9), f"{year} {i18n.text(lang, label)}", size=10)
    height = axis + 50 + LEVELS * 16
    body += text_at(20, 14, i18n.text(lang, "story_lane_cnn"), size=11, weight="bold")
    body += text_at(20, height - 6, i18n.text(lang, "story_lane_why"), size=11, weight="bold")
    return svg(width, height, body, i18n.text(lang, "story_history_title"))


def section_text(lang, key, text_key, numbers):
    return i18n.text(lang, text_key, **numbers)


# ---------------------------------------------------------------- the story as static HTML (no widgets)

def static_html(lang, tabs=None):
    """The story's sections as one HTML string in `lang` ("en" or "ko"): titles, text, the pictures at the
    lecture's settings and the "try it" links, no widgets and no script. The site's build puts it into
    index.html so the story reads before Python starts. `tabs`: the rooms links may open (default: the page's)."""
    if tabs is None:
        from . import app
        tabs = app.TABS
    lang = lang if lang in i18n.STRINGS else i18n.DEFAULT
    numbers = section_numbers()
    pictures = static_pictures(lang)
    parts = [f'<article class="story-static" lang="{lang}">',
             f"<h2>{i18n.text(lang, 'story_heading')}</h2><p>{i18n.text(lang, 'story_intro')}</p>"]
    for key, title, text in SECTIONS:
        parts.append(f'<section class="story-part story-{key}"><h3>{i18n.text(lang, title)}</h3>'
                     f"<p>{section_text(lang, key, text, numbers)}</p>{pictures[key]}{links_html(lang, key, tabs)}"
                     "</section>")
    parts.append("</article>")
    return "".join(parts)


def static_pictures(lang):
    """Each section's picture and numbers at the default settings (what the live page first shows)."""
    d = DEFAULTS
    mlp = mlp_numbers(d["mlp_side"], d["mlp_channels"], d["mlp_units"])
    rf = receptive_numbers(d["rf_layers"], d["rf_kernel"])
    ws = sharing_numbers(d["ws_h"], d["ws_k"], d["ws_filters"], d["ws_side"])
    cost, lenet, ex = lecture_cost(), lenet_numbers(), pooling_example(d["pool_kind"])
    p = lambda words: f'<p class="story-result">{words}</p>'   # noqa: E731
    return {"mlp": svg_flatten(lang) + p(mlp_result(lang, mlp)),
            "filters": svg_filters(lang),
            "receptive": svg_receptive(lang, rf) + p(receptive_result(lang, rf)),
            "sharing": svg_sharing(lang) + p(sharing_result(lang, ws)),
            "cost": svg_tensors(lang, cost) + cost_html(lang, cost),
            "pooling": svg_pooling(lang, ex) + p(pooling_result(lang, ex)),
            "lenet": svg_lenet(lang, lenet) + lenet_html(lang, lenet),
            "learning": "",
            "history": svg_timeline(lang)}


# ---------------------------------------------------------------- views: each returns its panel and refresh

STORY_CSS = """
:host { display: block; }
h3 { margin: 0.2em 0 0.3em; }
p { margin: 0.3em 0; line-height: 1.5; max-width: 60em; }
.story-result { font-weight: 600; }
.story-links { margin: 0.3em 0 0.6em; padding-left: 1.2em; }
.story-links li { margin: 0.15em 0; }
a.story-link { color: #1a5fb4; font-weight: 600; text-decoration: none; }
a.story-link:hover { text-decoration: underline; }
.story-soon { color: #888; }
.story-numbers { margin: 0.3em 0; padding-left: 1.2em; font-variant-numeric: tabular-nums; }
svg.story-svg { display: block; margin: 0.4em 0; max-width: 100%; height: auto; }
"""


def html_pane(text, css):
    return pn.pane.HTML(text, css_classes=[css], stylesheets=[STORY_CSS], sizing_mode="stretch_width")


def links_div(text):
    """The links as a plain Bokeh Div: Panel's HTML pane would hand each '#...' href to querySelector to scroll
    to it, and a hash like '#tab=conv&s=...' is no CSS selector (an uncaught error on every click)."""
    return Div(text=text, css_classes=["story-links"], stylesheets=[STORY_CSS], sizing_mode="stretch_width")


def section_view(lang, key, title_key, text_key, numbers, tabs, picture="", widgets=(), result=""):
    """One section: title, text, picture, widgets, a result line and the links. Returns its panel and the panes
    a refresh rewrites (picture, result)."""
    head = html_pane(f"<h3>{i18n.text(lang, title_key)}</h3><p>{section_text(lang, key, text_key, numbers)}</p>",
                     "story-text")
    pic = html_pane(picture, "story-picture")
    res = html_pane(result, "story-result")
    links = links_div(links_html(lang, key, tabs))
    items = [head, pic] + ([pn.Row(*widgets)] if widgets else []) + [res, pn.pane.Bokeh(links)]
    return types.SimpleNamespace(panel=pn.Column(*items, css_classes=["story-section", f"story-{key}"],
                                                 sizing_mode="stretch_width"), picture=pic, result=res, links=links)


def mlp_view(settings, t, lang, section):
    w = {"mlp_side": pn.widgets.Select(label=t("story_side"), options=list(SIDES), value=settings["mlp_side"],
                                       width=110, css_classes=["story-mlp-side"]),
         "mlp_channels": pn.widgets.RadioButtonGroup(options={t("story_grey"): 1, t("story_rgb"): 3},
                                                     value=settings["mlp_channels"],
                                                     css_classes=["story-mlp-channels"]),
         "mlp_units": pn.widgets.IntSlider(label=t("story_units"), start=1, end=1000, value=settings["mlp_units"],
                                           width=220, css_classes=["story-mlp-units"])}
    view = section(widgets=tuple(w.values()))

    def refresh():
        n = mlp_numbers(settings["mlp_side"], settings["mlp_channels"], settings["mlp_units"])
        view.picture.object = svg_flatten(lang)
        view.result.object = f"<p class='story-result'>{mlp_result(lang, n)}</p>"
        return n

    return types.SimpleNamespace(panel=view.panel, refresh=refresh, widgets=w, links=view.links)


def receptive_view(settings, t, lang, section):
    w = {"rf_layers": pn.widgets.IntSlider(label=t("story_layers"), start=1, end=6, value=settings["rf_layers"],
                                           width=200, css_classes=["story-rf-layers"]),
         "rf_kernel": pn.widgets.RadioButtonGroup(options={"3×3": 3, "5×5": 5, "7×7": 7},
                                                  value=settings["rf_kernel"], css_classes=["story-rf-kernel"])}
    view = section(widgets=tuple(w.values()))

    def refresh():
        n = receptive_numbers(settings["rf_layers"], settings["rf_kernel"])
        view.picture.object = svg_receptive(lang, n)
        view.result.object = f"<p class='story-result'>{receptive_result(lang, n)}</p>"
        return n

    return types.SimpleNamespace(panel=view.panel, refresh=refresh, widgets=w, links=view.links)


def sharing_view(settings, t, lang, section):
    w = {"ws_h": pn.widgets.RadioButtonGroup(options={"1×1": 1, "3×3": 3, "5×5": 5, "7×7": 7},
                                             value=settings["ws_h"], css_classes=["story-ws-h"]),
         "ws_k": pn.widgets.IntSlider(label=t("story_in_channels"), start=1, end=512, value=settings["ws_k"],
                                      width=200, css_classes=["story-ws-k"]),
         "ws_filters": pn.widgets.IntSlider(label=t("story_filters_count"), start=1, end=512,
                                            value=settings["ws_filters"], width=200, css_classes=["story-ws-filters"]),
         "ws_side": pn.widgets.Select(label=t("story_side"), options=list(SIDES), value=settings["ws_side"],
                                      width=110, css_classes=["story-ws-side"])}
    view = section(picture=svg_sharing(lang), widgets=tuple(w.values()))

    def refresh():
        n = sharing_numbers(settings["ws_h"], settings["ws_k"], settings["ws_filters"], settings["ws_side"])
        view.result.object = f"<p class='story-result'>{sharing_result(lang, n)}</p>"
        return n

    return types.SimpleNamespace(panel=view.panel, refresh=refresh, widgets=w, links=view.links)


def pooling_view(settings, t, lang, section):
    w = {"pool_kind": pn.widgets.RadioButtonGroup(options={t("pool_max"): "max", t("pool_avg"): "avg"},
                                                  value=settings["pool_kind"], css_classes=["story-pool-kind"])}
    view = section(widgets=tuple(w.values()))

    def refresh():
        ex = pooling_example(settings["pool_kind"])
        view.picture.object = svg_pooling(lang, ex)
        view.result.object = f"<p class='story-result'>{pooling_result(lang, ex)}</p>"
        return ex

    return types.SimpleNamespace(panel=view.panel, refresh=refresh, widgets=w, links=view.links)


def timeline_data(lang):
    """The timeline as plot columns: x (year), y (lane and level), label, detail, colour."""
    cols = {"x": [], "y": [], "y0": [], "label": [], "detail": [], "colour": [], "lane": []}
    for year, lane, level, label, detail in TIMELINE:
        cols["x"].append(year)
        cols["y0"].append(0.0)
        cols["y"].append(0.6 + 0.45 * level if lane else -0.6 - 0.45 * level)
        cols["label"].append(f"{year} {i18n.text(lang, label)}")
        cols["detail"].append(i18n.text(lang, detail))
        cols["colour"].append("#29335c" if lane else "#e4572e")
        cols["lane"].append(i18n.text(lang, "story_lane_cnn" if lane else "story_lane_why"))
    return cols


def timeline_view(lang, section):
    """The history as a Bokeh timeline: milestones above the axis, why it worked below; hover for details."""
    source = ColumnDataSource(timeline_data(lang), name="story-timeline-source")
    top, bottom = 0.6 + 0.45 * LEVELS, -0.6 - 0.45 * LEVELS
    fig = figure(height=460, sizing_mode="stretch_width", x_range=Range1d(1976, 2024), y_range=Range1d(bottom, top),
                 tools="pan,xwheel_zoom,reset", toolbar_location="right", name="story-timeline",
                 css_classes=["story-timeline"])
    fig.segment(x0="x", y0="y0", x1="x", y1="y", source=source, line_color="colour", line_alpha=0.5, line_width=2)
    dots = fig.scatter(x="x", y="y", source=source, size=10, color="colour")
    fig.scatter(x="x", y="y0", source=source, size=7, color="colour")
    fig.add_layout(LabelSet(x="x", y="y", text="label", source=source, x_offset=7, y_offset=-7,
                            text_font_size="10pt", text_color="colour", background_fill_color="white",
                            background_fill_alpha=0.85))
    fig.add_tools(HoverTool(renderers=[dots], tooltips=[("", "@label"), ("", "@detail")]))
    fig.yaxis.visible = False
    fig.ygrid.visible = False
    fig.xaxis.axis_label = i18n.text(lang, "story_year")
    fig.line(x=[1976, 2024], y=[0, 0], color="#333")
    fig.text(x=[1977, 1977], y=[top - 0.4, bottom + 0.15],
             text=[i18n.text(lang, "story_lane_cnn"), i18n.text(lang, "story_lane_why")],
             text_font_size="11pt", text_font_style="bold", text_color=["#29335c", "#e4572e"])
    view = section(widgets=(pn.pane.Bokeh(fig, sizing_mode="stretch_width"),))
    return types.SimpleNamespace(panel=view.panel, refresh=lambda: None, figure=fig, source=source, links=view.links)


# ---------------------------------------------------------------- what the story does

def url_state(story):
    """The live widgets' settings that differ from the defaults (the lecture's numbers): {} when untouched."""
    return {k: v for k, v in story.settings.items() if v != DEFAULTS[k]}


def restore(story, state):
    """Settings from a URL: defaults, then what `state` holds that CHECKS accept. Returns the notices for the
    rest (i18n (key, values) pairs); never raises."""
    values, notices = urlstate.restore_fields(state, CHECKS, DEFAULTS)
    for key, value in values.items():
        story.widgets[key].value = value        # each widget's watcher updates settings and redraws
    return notices


def changed(story, key, event):
    story.settings[key] = event.new
    story.refresh()


def refresh(story):
    for view in story.views.values():
        view.refresh()


# ---------------------------------------------------------------- the story

def build(settings, lang="en", tabs=()):
    """The story's layout over `settings` (a dict like DEFAULTS, kept across rebuilds). `tabs`: the rooms links
    may open. Returns a namespace: layout, widgets {setting: widget}, views, timeline figure and source,
    url_state(), restore(state) -> notices, refresh(), links {section: Bokeh Div of its links}."""
    t = functools.partial(i18n.text, lang)
    numbers = section_numbers()
    story = types.SimpleNamespace(settings=settings, lang=lang)
    sections = {key: functools.partial(section_view, lang, key, title, text, numbers, tabs)
                for key, title, text in SECTIONS}
    cost, lenet = lecture_cost(), lenet_numbers()
    fixed = {   # sections with a picture and numbers but no widget
        "filters": sections["filters"](picture=svg_filters(lang)),
        "cost": sections["cost"](picture=svg_tensors(lang, cost), result=cost_html(lang, cost)),
        "lenet": sections["lenet"](picture=svg_lenet(lang, lenet), result=lenet_html(lang, lenet)),
        "learning": sections["learning"](),
    }
    story.views = {"mlp": mlp_view(settings, t, lang, sections["mlp"]),
                   "receptive": receptive_view(settings, t, lang, sections["receptive"]),
                   "sharing": sharing_view(settings, t, lang, sections["sharing"]),
                   "pooling": pooling_view(settings, t, lang, sections["pooling"]),
                   "history": timeline_view(lang, sections["history"])}
    story.widgets = {k: w for view in story.views.values() for k, w in getattr(view, "widgets", {}).items()}
    story.refresh = functools.partial(refresh, story)
    for key, widget in story.widgets.items():
        widget.param.watch(functools.partial(changed, story, key), "value")
    story.refresh()

    intro = html_pane(f"<h2>{t('story_heading')}</h2><p>{t('story_intro')}</p>", "story-intro")
    order = [story.views.get(key) or fixed[key] for key, _, _ in SECTIONS]
    story.links = {key: view.links for (key, _, _), view in zip(SECTIONS, order)}
    story.layout = pn.Column(intro, *(view.panel for view in order), css_classes=["story"],
                             sizing_mode="stretch_width", max_width=1100)
    story.figure, story.source = story.views["history"].figure, story.views["history"].source
    story.url_state = functools.partial(url_state, story)
    story.restore = functools.partial(restore, story)
    return story


def room(session, lang):
    """The story as a room of the page (see app.py); its widgets' settings live in the session."""
    if not hasattr(session, "story_settings"):
        session.story_settings = dict(DEFAULTS)
    return build(session.story_settings, lang, tabs=getattr(session, "tabs", ()))
