"""Convolution lab (컨볼루션): a photo, a filter bank, the feature maps, and the dot product behind any pixel.

Storyboard:
1. The student picks a demo photo or uploads one; it becomes a grey H×W×1 input (values 0..255).
2. They pick a filter (Gaussian, box, sharpen, emboss, Laplacian, Sobel, Canny, or their own kernel),
   a stride (보폭), zero padding (0 덧대기) and a bias, plus more filters for the same layer.
3. They see the feature maps (특징 맵), the layer arithmetic (output shape, k′(k·h·h+1) weights,
   multiplications, and what a fully connected layer would need), and, clicking an output pixel,
   its receptive field (수용장) on the input and the dot product that made it.

State is a plain dict; `compute` and `inspect` are pure functions over it (tests call them). Each part of the
page is one view function that returns its panel and its refresh: `image_view` (1), `filter_view`, `kernel_view`
and `layer_view` (2), `plots_view`, `numbers_view` and `dot_view` (3), `message_view`; `apply` recomputes and
`show` refreshes them all; `build` lays them out at the bottom. All numbers come from core.
"""
import functools
import html
import io
import numbers
import types

import numpy as np
import panel as pn
from bokeh import events

from core import arithmetic, conv, filters, pooling, receptive
from . import export, i18n, urlstate, views
from .views import PLOT_PX, TABLE_CSS, fmt, image_plot, matrix_html, show_array, tapped_pixel

FILTERS = ("gaussian", "box", "sharpen", "emboss", "laplacian", "sobel_x", "sobel_y", "sobel", "canny", "custom")
NONLINEAR = ("sobel", "canny")           # not one convolution: no stride/padding/bias, no single dot product
SIZED = ("gaussian", "box")              # filters with a size parameter
CUSTOM_SIZES = (3, 5)
MAX_SIDE = 256                           # larger inputs are shrunk (the redraw stays fast)
MAX_EXTRA = 3                            # extra feature maps shown next to the main one
CANNY_SIGMA = 1.4
EXPORT_CSS = f"pre {{ font: 12px {views.MONO}; background: #f6f6f6; border: 1px solid #ddd; padding: 6px; " \
             "overflow: auto; }"
# Bounds of every number the student can type (or a link can carry): beyond them a redraw would take minutes
# (a 999x999 kernel), change nothing visible (sigma 1e9 on a 5x5 kernel is a box filter) or overflow float32.
MAX_KERNEL = 31                          # Gaussian/box size h: odd, 1..31
SIGMA_RANGE = (0.1, 20.0)
MAX_STRIDE = 4
BIAS_LIMIT = 10_000.0                    # |bias|; pixels are 0..255
CELL_LIMIT = 1_000.0                     # |my kernel's cells|
# Uploads: the page refuses a larger file before reading it (static/app.js reads max_bytes from the widget's
# tags); Python checks again. A photo is decoded already shrunk (JPEG's DCT scaling, then Pillow's reduce).
MAX_UPLOAD_BYTES = 25 * 2**20
MAX_UPLOAD_PIXELS = 40_000_000           # decoded pixels (after JPEG's scaling): about 160 MB inside Pillow


# ---------------------------------------------------------------- state

def default_settings():
    return {"filter": "gaussian", "size": 5, "sigma": 1.0, "custom": identity_kernel(3),
            "stride": 1, "padding": "same", "bias": 0.0, "extra": []}


def identity_kernel(size):
    """A size×size kernel with a single 1 in the centre: the output copies the input (a starting point to edit)."""
    k = np.zeros((size, size), np.float32)
    k[size // 2, size // 2] = 1.0
    return k


def initial_state(images=None):
    """The lab's state: the demo images, the current input, the last good settings and their result."""
    images = dict(demo_images() if images is None else images)   # uploads are added to this copy
    name = default_photo(tuple(images))
    image, factor = prepare_image(images[name])
    state = {"images": images, "demos": tuple(images), "image_name": name, "image": image,
             "settings": default_settings(), "result": None, "tap": None, "message": None}
    state["result"] = compute(image, state["settings"])
    state["settings"] = state["result"]["settings"]
    state["message"] = ("info", "notice_downscaled", shrink_notice(images[name], image, factor)) if factor > 1 else None
    return state


# ---------------------------------------------------------------- pure functions: input

def default_photo(names):
    return "camera" if "camera" in names else names[0]


def demo_images():
    """scikit-image's photographs exported by core.datasets; a drawn test pattern if the cache is missing."""
    try:
        from core import datasets
        images = datasets.load_demo_images()
        if images:
            return dict(images)
    except (OSError, ValueError):
        pass
    return {"pattern": drawn_pattern()}


def drawn_pattern(size=128):
    """A grey square, a bright disc and a ramp: edges in every direction, so every filter shows something."""
    r, c = np.mgrid[0:size, 0:size]
    img = np.full((size, size), 40, np.uint8)
    img[size // 8:size // 2, size // 8:size // 2] = 160
    img[(r - 0.68 * size) ** 2 + (c - 0.68 * size) ** 2 < (size / 5) ** 2] = 240
    img[size - size // 8:, :] = (c[size - size // 8:, :] * 255 // size).astype(np.uint8)
    return img


def prepare_image(array):
    """Any uint8 image (H, W), (H, W, 3) or (H, W, 4) -> (grey float32 (H', W') in 0..255, shrink factor).

    Images longer than MAX_SIDE are shrunk by average pooling (f×f windows, f = ceil(side / MAX_SIDE)).
    """
    array = np.asarray(array)
    if array.ndim not in (2, 3) or min(array.shape[:2]) < 1:
        raise ValueError(f"image: expects (H, W) or (H, W, channels), got shape {array.shape}")
    gray = np.asarray(filters.to_gray(array), np.float32)
    if array.dtype == np.uint8:
        gray = gray * np.float32(255)     # to_gray scaled to [0, 1]; students read pixels as 0..255
    factor = -(-max(gray.shape) // MAX_SIDE)
    if factor > 1:
        small, _ = pooling.avg_pool_forward(gray[None, :, :, None], factor, factor)
        gray = small[0, :, :, 0]
    return np.ascontiguousarray(gray, np.float32), factor


def shrink_notice(original, image, factor):
    """The values for the "notice_downscaled" message."""
    return {"h0": original.shape[0], "w0": original.shape[1], "f": factor, "h": image.shape[0], "w": image.shape[1]}


class LabError(ValueError):
    """A problem the lab itself finds (not core): an i18n key ("why_...") and its values, so the page can say
    it in its language; str() is the English text."""

    def __init__(self, key, **values):
        self.key, self.values = key, values
        super().__init__(said("en", key, values))


def decode_upload(data):
    """PNG/JPEG bytes -> (uint8 array (H, W) or (H, W, 3), (h0, w0) the file's size, shrink factor f).

    A photo longer than MAX_SIDE is decoded already shrunk by f = ceil(side / MAX_SIDE), like `prepare_image`
    would shrink it: a JPEG at 1/2, 1/4 or 1/8 while decoding (Pillow's draft), then f×f averages (Pillow's
    reduce), so a 12000×12000 photo never exists at full size. LabError (a ValueError) says why it is not one.
    """
    if not data:
        raise LabError("why_empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise LabError("why_file_too_big", mb=megabytes(len(data)), limit=megabytes(MAX_UPLOAD_BYTES))
    try:
        from PIL import Image, UnidentifiedImageError  # lazy: only an upload needs Pillow
    except ImportError:
        raise LabError("why_no_pil") from None
    import io
    import warnings
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)   # the pixel limit below says it
            with Image.open(io.BytesIO(data)) as img:
                if img.format not in ("PNG", "JPEG"):
                    raise LabError("why_format", format=img.format or "?")
                return decode_shrunk(img)
    except UnidentifiedImageError:
        raise LabError("why_not_image") from None
    except Image.DecompressionBombError:        # a small file that would unpack to gigabytes
        raise LabError("why_too_large") from None
    except (OSError, SyntaxError) as e:         # Pillow's words for truncated or damaged data
        raise LabError("why_damaged", detail=str(e)) from None


def decode_shrunk(img):
    """An opened PIL image -> (uint8 array, (h0, w0), f): see `decode_upload`."""
    from PIL import Image
    w0, h0 = img.size
    side = max(w0, h0)
    if img.format == "JPEG":
        scale = jpeg_scale(side)
        if scale > 1:
            img.draft(img.mode, (-(-w0 // scale), -(-h0 // scale)))
    w, h = img.size
    if w * h > MAX_UPLOAD_PIXELS:
        raise LabError("why_too_many_pixels", w=w0, h=h0, limit=MAX_UPLOAD_PIXELS // 1_000_000)
    img.load()
    if img.mode.startswith("I"):                # 16-bit grey PNG: keep the top 8 bits (convert("L") would clip)
        img = Image.fromarray((np.asarray(img, np.int64) >> 8).clip(0, 255).astype(np.uint8))
    elif img.mode not in ("L", "RGB"):
        img = img.convert("L" if img.mode in ("1", "LA") else "RGB")
    r = -(-max(w, h) // MAX_SIDE)               # what is left after the JPEG's scaling
    if r > 1:                                   # r×r averages over whole windows, as average pooling does
        img = img.reduce(r, box=(0, 0, w // r * r, h // r * r))
    return np.asarray(img, np.uint8), (h0, w0), round(side / max(img.size))


def jpeg_scale(side):
    """The JPEG decoder's scale (1, 2, 4 or 8) for a photo `side` pixels long: the largest that still ends within
    10% of the size that whole f×f averages would give (f = ceil(side / MAX_SIDE)), so a 12000-pixel photo is
    decoded at 1/8 but a 600-pixel one is averaged 3×3 rather than halved then averaged 2×2."""
    best = side // -(-side // MAX_SIDE)

    def final(s):
        decoded = -(-side // s)
        return decoded // -(-decoded // MAX_SIDE)
    return max(s for s in (1, 2, 4, 8) if final(s) >= 0.9 * best)


def megabytes(n):
    return f"{n / 2**20:.1f}"


# ---------------------------------------------------------------- pure functions: filters and feature maps

def kernel_for(name, settings):
    """The 2-D kernel of filter `name` under these settings, or None for Sobel magnitude / Canny."""
    if name == "custom":
        return np.asarray(settings["custom"], np.float32)
    if name in NONLINEAR:
        return None
    if name == "gaussian":
        return filters.get(name, size=settings["size"], sigma=settings["sigma"])
    if name == "box":
        return filters.get(name, size=settings["size"])
    return filters.get(name)


def feature_map(image, name, kernel, settings):
    """One feature map (Ho, Wo) of `image` (H, W) through filter `name`. ValueError if the settings do not fit."""
    if name == "sobel":
        return np.asarray(filters.sobel_magnitude(image), np.float32)
    if name == "canny":
        # Canny's thresholds are relative to an image in [0, 1].
        return np.asarray(filters.canny(image / np.float32(255), sigma=CANNY_SIGMA), np.float32)
    return conv.conv2d(image, kernel, bias=np.array([settings["bias"]], np.float32),   # (F,) with F = 1
                       stride=settings["stride"], padding=settings["padding"])


def layer_filters(settings):
    """The filters of the layer in order: the main one, then the extra ones (no duplicates)."""
    names = [settings["filter"]]
    for name in settings["extra"]:
        if name not in names:
            names.append(name)
    return names[:1 + MAX_EXTRA]


def compute(image, settings):
    """Everything the lab shows for this input and these settings, computed once.

    Returns dict: names (filters in order), kernels {name: (h, w) or None}, maps {name: (Ho, Wo)},
    numbers (see `layer_numbers`), settings (as checked). Raises ValueError (naming the filter or the field)
    if anything does not fit.
    """
    settings = check_settings(settings)
    kernels, maps = {}, {}
    names = layer_filters(settings)
    for name in names:
        try:
            kernels[name] = kernel_for(name, settings)
            maps[name] = feature_map(image, name, kernels[name], settings)
        except (ValueError, TypeError) as e:   # TypeError: a wrong kind of value reached a filter
            raise ValueError(str(e) if str(e).startswith(name) else f"{name}: {e}") from None
        if not np.isfinite(maps[name]).all():  # the bounds keep float32 far away; say so if it ever happens
            raise LabError("why_overflow", name=("f_" + name, {}))
    return {"names": names, "kernels": kernels, "maps": maps, "settings": settings,
            "numbers": layer_numbers(image.shape, kernels, settings)}


def check_settings(settings):
    """Every setting within its bounds, before core sees it (core checks the rest, e.g. a kernel larger than
    the input). Returns the settings with numbers as int/float and my kernel as float32; LabError naming the
    field otherwise."""
    return {key: check(settings[key]) for key, check in CHECKS.items()}


def check_filter(name):
    if not isinstance(name, str) or name not in FILTERS:
        raise LabError("why_unknown_filter", name=short(name), names=", ".join(FILTERS))
    return name


def check_padding(padding):
    if padding not in ("valid", "same"):
        raise LabError("why_choice", field=("padding", {}), value=short(padding), names="valid, same")
    return padding


def check_extra(names):
    """More filters in the layer: a list of at most MAX_EXTRA filter names."""
    if not isinstance(names, (list, tuple)):
        raise LabError("why_unknown_filter", name=short(names), names=", ".join(FILTERS))
    if len(names) > MAX_EXTRA:
        raise LabError("why_too_many_filters", n=MAX_EXTRA, got=len(names))
    return [check_filter(name) for name in names]


def check_kernel(cells):
    """My kernel: a 3×3 or 5×5 grid of numbers within ±CELL_LIMIT (an array, or lists from a link) -> float32
    array; LabError otherwise."""
    if not isinstance(cells, np.ndarray):
        rows = cells if isinstance(cells, (list, tuple)) else ()
        if not (len(rows) in CUSTOM_SIZES and all(isinstance(r, (list, tuple)) and len(r) == len(rows) for r in rows)):
            raise LabError("why_custom_shape", shape=short(cells))
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for r in rows for v in r):
            raise LabError("why_cells", limit=fmt(CELL_LIMIT))
    try:
        k = np.asarray(cells, np.float64)
    except (TypeError, ValueError, OverflowError):     # ints beyond float
        raise LabError("why_cells", limit=fmt(CELL_LIMIT)) from None
    if k.ndim != 2 or k.shape[0] not in CUSTOM_SIZES or k.shape[0] != k.shape[1]:
        raise LabError("why_custom_shape", shape="x".join(map(str, k.shape)))
    if not (np.abs(k) <= CELL_LIMIT).all():             # NaN fails this too
        raise LabError("why_cells", limit=fmt(CELL_LIMIT))
    return k.astype(np.float32)


def bounded(value, key, lo, hi, integer=False, odd=False):
    """A number typed in field `key` (its label's i18n key) -> int (integer/odd) or float within [lo, hi].

    LabError naming the field if it is empty, not a number, out of range, not whole, or (odd) even."""
    if value is None:
        raise LabError("why_empty_field", field=(key, {}))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise LabError("why_not_number", field=(key, {}), value=short(value))
    ok = lo <= value <= hi                              # False for NaN; exact for huge ints
    if ok and (integer or odd):
        ok = value == int(value) and (not odd or int(value) % 2 == 1)
    if not ok:
        raise LabError("why_odd" if odd else "why_whole" if integer else "why_range", field=(key, {}),
                       lo=fmt(lo), hi=fmt(hi), value=short(value))
    return int(value) if integer or odd else float(value)


def short(value, n=24):
    """A value as a message quotes it: at most n characters (a link may carry a megabyte of text)."""
    try:
        text = str(value)
    except ValueError:                                  # an int too long for str()
        text = f"<{type(value).__name__}>"
    return text if len(text) <= n else text[:n] + "…"


# Each setting's check, by its key in the settings (and in the URL; see url_state).
CHECKS = {
    "filter": check_filter,
    "size": lambda v: bounded(v, "size", 1, MAX_KERNEL, odd=True),
    "sigma": lambda v: bounded(v, "sigma", *SIGMA_RANGE),
    "custom": check_kernel,
    "stride": lambda v: bounded(v, "stride", 1, MAX_STRIDE, integer=True),
    "padding": check_padding,
    "bias": lambda v: bounded(v, "bias", -BIAS_LIMIT, BIAS_LIMIT),
    "extra": check_extra,
}


def layer_numbers(input_hw, kernels, settings):
    """Layer arithmetic for the linear filters, from core.arithmetic, grouped by kernel size.

    Returns dict: groups [(h, w, count, ho, wo)], channels (k = 1, grey), params, mults, fc_inputs
    (H*W*k input nodes), fc_outputs (all feature-map pixels), fc_params (a Dense layer from the one to the
    other), lecture_inputs (256*256*3, the lecture's example).
    """
    h, w = input_hw
    channels = 1
    sizes = {}
    for k in kernels.values():
        if k is not None:
            sizes[k.shape] = sizes.get(k.shape, 0) + 1
    groups, params, mults, outputs = [], 0, 0, 0
    for (kh, kw), count in sizes.items():
        ho, wo = arithmetic.output_hw((h, w), (kh, kw), (settings["stride"],) * 2, settings["padding"])
        groups.append((kh, kw, count, ho, wo))
        params += arithmetic.conv_params((kh, kw), channels, count)
        mults += arithmetic.conv_mults((ho, wo), (kh, kw), channels, count)
        outputs += ho * wo * count
    fc_inputs = h * w * channels
    return {"groups": groups, "channels": channels, "params": params, "mults": mults,
            "fc_inputs": fc_inputs, "fc_outputs": outputs,
            "fc_params": arithmetic.dense_params(fc_inputs, outputs) if outputs else 0,
            "lecture_inputs": 256 * 256 * 3}


def filter_window(name, result, settings):
    """What one output pixel of filter `name` looks at: (window size, stride, padding) on the input."""
    if name == "canny":
        # Before its last two steps, a Canny pixel sees the Gaussian window followed by the Sobel window.
        return receptive.stacked_size(filters.gaussian_size(CANNY_SIGMA), 3), 1, "same"
    if name == "sobel":
        return 3, 1, "same"
    return result["kernels"][name].shape, settings["stride"], settings["padding"]


def inspect(image, result, settings, i, j):
    """How output pixel (i, j) of the main feature map was made.

    Returns dict: kind ("dot" | "sobel" | "canny"), rect (receptive field on the input), and
    "dot": one core.receptive.dot_product; "sobel": dots for Sobel x and Sobel y and the magnitude.
    ValueError if (i, j) is outside the feature map.
    """
    name = settings["filter"]
    out = result["maps"][name]
    if not (0 <= i < out.shape[0] and 0 <= j < out.shape[1]):
        raise ValueError(f"{name}: output pixel ({i}, {j}) is outside the feature map {out.shape[0]}x{out.shape[1]}")
    if name == "canny":
        return {"kind": "canny", "name": name, "i": i, "j": j, "output": out[i, j],
                "rect": receptive.window(i, j, *filter_window(name, result, settings), image.shape)}
    if name == "sobel":
        # core.filters mirrors the border for Sobel (a zero border would look like an edge).
        gx = receptive.dot_product(image, filters.sobel_x(), i, j, padding="same", border="mirror")
        gy = receptive.dot_product(image, filters.sobel_y(), i, j, padding="same", border="mirror")
        return {"kind": "sobel", "name": name, "i": i, "j": j, "gx": gx, "gy": gy, "output": out[i, j],
                "rect": gx["rect"]}
    dot = receptive.dot_product(image, result["kernels"][name], i, j, settings["stride"],
                                settings["padding"], settings["bias"])
    return {"kind": "dot", "name": name, "i": i, "j": j, "dot": dot, "output": dot["output"], "rect": dot["rect"]}


# ---------------------------------------------------------------- pure functions: text

def filter_label(lang, name):
    return i18n.text(lang, "f_" + name)


def filter_options(lang):
    """{label: name} of every filter, for the filter pickers."""
    return {filter_label(lang, n): n for n in FILTERS}


def numbers_html(numbers, names, lang):
    """The layer arithmetic as a short HTML list."""
    t = lambda key, **kw: i18n.text(lang, key, **kw)
    lines = []
    if numbers["groups"]:
        kh, kw, _, ho, wo = numbers["groups"][0]
        total = sum(g[2] for g in numbers["groups"])
        k = numbers["channels"]
        lines.append(t("numbers_output", ho=ho, wo=wo, f=total))
        lines.append(t("numbers_params", params=numbers["params"],
                       formula=" + ".join(f"{n}({k}·{h}·{w}+1)" for h, w, n, _, _ in numbers["groups"])))
        lines.append(t("numbers_mults", mults=numbers["mults"],
                       formula=" + ".join(f"{a}·{b}·({h}·{w}·{k}+1)·{n}" for h, w, n, a, b in numbers["groups"])))
        lines.append(t("numbers_fc", inputs=numbers["fc_inputs"], outputs=numbers["fc_outputs"],
                       fc_params=numbers["fc_params"]))
    for name in names:
        if name in NONLINEAR:
            lines.append(t("numbers_nonlinear", name=filter_label(lang, name)))
    lines.append(t("numbers_lecture", inputs=numbers["lecture_inputs"]))
    return f"<b>{t('numbers_title')}</b><ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"


def kernel_html(name, kernel, lang):
    if kernel is None:
        return f"<i>{i18n.text(lang, 'nonlinear_note', name=filter_label(lang, name))}</i>"
    h, w = kernel.shape
    return (f"<b>{i18n.text(lang, 'kernel_title', name=filter_label(lang, name), h=h, w=w)}</b>"
            + matrix_html(kernel, digits=3))


def dot_table_html(dot, lang):
    """patch × kernel cell by cell, then Σ + bias = output."""
    t = lambda key, **kw: i18n.text(lang, key, **kw)
    r = dot["rect"]
    cells = "".join(
        "<tr>" + "".join(f"<td{' class=pad' if pad else ''}>{fmt(p)}×{fmt(k)}</td>"
                         for p, k, pad in zip(prow, krow, padrow)) + "</tr>"
        for prow, krow, padrow in zip(dot["patch"], dot["kernel"], dot["padded"]))
    note_key = "dot_mirror_note" if dot["border"] == "mirror" else "dot_padding_note"
    note = f" {t(note_key)}" if dot["padded"].any() else ""
    total = t("dot_sum", total=fmt(dot["total"]), bias=fmt(dot["bias"]), output=fmt(dot["output"]))
    return (f"<div>{t('dot_window', top=r['top'], bottom=r['bottom'] - 1, left=r['left'], right=r['right'] - 1)}"
            f"{note}</div><table class='dot'>{cells}</table><div class='dot-sum'>{total}</div>")


def inspect_html(detail, lang):
    if detail is None:
        return f"<i>{i18n.text(lang, 'dot_hint')}</i>"
    t = lambda key, **kw: i18n.text(lang, key, **kw)
    head = f"<b>{t('dot_title', i=detail['i'], j=detail['j'], name=filter_label(lang, detail['name']))}</b>"
    if detail["kind"] == "canny":
        return f"{head}<div>{t('canny_note')}</div><div>= {fmt(detail['output'])}</div>"
    if detail["kind"] == "sobel":
        gx, gy = detail["gx"], detail["gy"]
        return (f"{head}<div>{t('sobel_note')}</div><div>gx:</div>{dot_table_html(gx, lang)}"
                f"<div>gy:</div>{dot_table_html(gy, lang)}"
                f"<div class='dot-sum'>√({fmt(gx['output'])}² + {fmt(gy['output'])}²) = {fmt(detail['output'])}</div>")
    return head + dot_table_html(detail["dot"], lang)


def message_text(message, lang):
    """state["message"] is None or (alert type, i18n key, values); a value may itself be (key, values), and so on."""
    if message is None:
        return ""
    _, key, values = message
    return said(lang, key, values)


def said(lang, key, values):
    """i18n.text of `key` whose values may themselves be (key, values) pairs (a field's label inside a reason)."""
    values = {k: said(lang, *v) if isinstance(v, tuple) else v for k, v in values.items()}
    return i18n.text(lang, key, **values)


def reason(error):
    """A ValueError as a message value: a LabError's (key, values), to be said in the page's language, or core's
    English text."""
    return (error.key, error.values) if isinstance(error, LabError) else str(error)


# ---------------------------------------------------------------- views: each returns its panel and its refresh
# A view is a namespace: its panel; refresh() to show the state (settings, result, image, tap, message);
# widgets {lab key: widget}; the panes, sources and figures tests read.

def message_view(state, lang):
    """The lab's notice (a shrunk photo, an upload) or error (settings that do not fit, a bad file)."""
    alert = pn.pane.Alert("", alert_type="info", visible=False, css_classes=["conv-message"])

    def refresh():
        msg = state["message"]
        alert.object = message_text(msg, lang)
        alert.alert_type = "danger" if msg and msg[0] == "error" else "info"
        alert.visible = msg is not None

    return types.SimpleNamespace(panel=alert, refresh=refresh)


def image_view(state, t, apply, say):
    """The demo photo picker and the upload box. A picked or uploaded photo becomes the input (apply); a file
    that is not a PNG/JPEG image, or too large, says why (say) and the previous photo stays, named in the menu."""
    w = {
        "image": pn.widgets.Select(label=t("image"), options={name: name for name in state["images"]},
                                   value=state["image_name"], css_classes=["conv-image-select"], width=200),
        "upload": views.file_input(".png,.jpg,.jpeg,image/png,image/jpeg", MAX_UPLOAD_BYTES,
                                   css_classes=["conv-upload"], width=220),
    }

    def pick(event):
        if event.new == state["image_name"] or event.new not in state["images"]:
            return                                       # already shown (e.g. an upload just selected itself)
        original = state["images"][event.new]
        image, factor = prepare_image(original)
        notice = ("info", "notice_downscaled", shrink_notice(original, image, factor)) if factor > 1 else None
        apply(image=image, image_name=event.new, notice=notice)

    def load_upload(filename, data):
        """Decode an uploaded file; on success it becomes the input, on failure the old image stays."""
        name = upload_name(state, filename)
        try:
            original, (h0, w0), f = decode_upload(data)
            image, _ = prepare_image(original)           # already shrunk while decoding
        except ValueError as e:
            state["message"] = ("error", "err_upload", {"name": filename or "?", "why": reason(e)})
            say()
            refresh()                                    # the menu keeps naming the photo shown
            return False
        notice = (("info", "notice_decoded", {"name": name, "h0": h0, "w0": w0, "f": f, "h": image.shape[0],
                                               "w": image.shape[1]}) if f > 1 else
                  ("info", "notice_loaded", {"name": name, "h": image.shape[0], "w": image.shape[1]}))
        if not apply(image=image, image_name=name, notice=notice):
            refresh()
            return False
        state["images"][name] = original                 # it can be picked again like a demo photo
        refresh()
        return True

    def rename(filename):
        """The file's name arrived after its bytes (Pyodide): the upload (if it loaded), its menu entry and the
        message take it."""
        said_as, old, loaded = state.pop("upload_as")
        new = upload_name(state, filename)
        if loaded and state["image_name"] == old and old in state["images"]:
            state["images"][new] = state["images"].pop(old)
            state["image_name"] = new
        msg = state["message"]
        if msg and msg[2].get("name") in (old, said_as or "?"):
            state["message"] = (msg[0], msg[1], dict(msg[2], name=new if loaded else filename))
        refresh()
        say()

    def on_upload(*events):
        """FileInput sends bytes and name together under `panel serve`; under Pyodide the name comes second."""
        up, changed = w["upload"], {e.name for e in events}
        if "value" in changed and up.value is not None:
            loaded = load_upload(up.filename, up.value)
            state.pop("upload_as", None)
            if "filename" not in changed:                # the name that follows may be this file's
                state["upload_as"] = (up.filename, upload_name(state, up.filename), loaded)
        elif "filename" in changed and state.get("upload_as") is not None:
            rename(up.filename)

    def on_refused(event):
        """The page refused a file too large to read (see views.file_input): say so, keep the photo."""
        refused = views.refused_file(w["upload"])
        if refused is not None:
            why = ("why_file_too_big", {"mb": megabytes(refused["bytes"]), "limit": megabytes(MAX_UPLOAD_BYTES)})
            state["message"] = ("error", "err_upload", {"name": refused["name"], "why": why})
            say()
            refresh()

    def refresh():
        """The picker lists every photo, uploads too, and shows the current one."""
        w["image"].options = {name: name for name in state["images"]}
        w["image"].value = state["image_name"]

    w["image"].param.watch(pick, "value")
    w["upload"].param.watch(on_upload, ["value", "filename"])
    w["upload"].param.watch(on_refused, "tags")
    panel = pn.Column(w["image"], pn.pane.HTML(f"<small>{t('upload')}</small>", margin=(0, 10)), w["upload"])
    return types.SimpleNamespace(panel=panel, refresh=refresh, widgets=w, load_upload=load_upload)


def upload_name(state, filename):
    """The menu's name for an upload: its file name, marked if a demo photo has that name."""
    name = str(filename or "upload")[:80]
    return name + " ↑" if name in state["demos"] else name


def filter_view(state, t, lang, changed):
    """The main filter and its size h and sigma σ, enabled for the filters that have them (changed() on every edit)."""
    s = state["settings"]
    w = {
        "filter": pn.widgets.Select(label=t("filter"), options=filter_options(lang), value=s["filter"],
                                    css_classes=["conv-filter-select"], width=200),
        "size": pn.widgets.IntInput(label=t("size"), value=s["size"], step=2, css_classes=["conv-size"], width=95),
        "sigma": pn.widgets.FloatInput(label=t("sigma"), value=s["sigma"], step=0.2,     # no start: the lab
                                       css_classes=["conv-sigma"], width=95),             # says what is wrong
    }

    def settings():
        return {"filter": w["filter"].value, "size": w["size"].value, "sigma": w["sigma"].value}

    def refresh():
        # Disabled, not hidden: showing or hiding a widget makes BokehJS lay out the whole page again (a filter
        # change redrew in 100-200 ms instead of 40).
        name = state["settings"]["filter"]
        w["size"].disabled = name not in SIZED
        w["sigma"].disabled = name != "gaussian"

    for widget in w.values():
        widget.param.watch(lambda event: changed(), "value")
    return types.SimpleNamespace(panel=pn.Column(w["filter"], pn.Row(w["size"], w["sigma"])), refresh=refresh,
                                 widgets=w, settings=settings)


def kernel_view(state, t, lang, apply, say, filter_select):
    """The main filter's kernel: a table for a preset; for my kernel, an editable 3×3 or 5×5 grid (apply(custom=))
    and a button that copies a preset into it (then picks "custom" in `filter_select`)."""
    w = {
        "custom_size": pn.widgets.RadioButtonGroup(label=t("custom_size"), options={"3×3": 3, "5×5": 5},
                                                   value=state["settings"]["custom"].shape[0],
                                                   css_classes=["conv-custom-size"]),
        "copy": pn.widgets.Button(label=t("copy_to_custom"), css_classes=["conv-copy-kernel"], width=200),
    }
    cells = pn.GridBox(ncols=state["settings"]["custom"].shape[0], css_classes=["conv-kernel-grid"])
    table = pn.pane.HTML("", css_classes=["conv-kernel-view"], stylesheets=[TABLE_CSS])

    def fill_cells():
        k = state["settings"]["custom"]
        cells.ncols = k.shape[0]
        cells.objects = [cell_widget(r, c, k[r, c]) for r in range(k.shape[0]) for c in range(k.shape[1])]

    def cell_widget(r, c, value):
        cell = pn.widgets.FloatInput(value=float(str(value)), step=0.1, width=64,     # float32 0.1 reads 0.1
                                     css_classes=["conv-kernel-cell"])

        def edited(event):
            k = state["settings"]["custom"].copy()
            k[r, c] = event.new if event.new is not None else 0.0
            apply(custom=k)
        cell.param.watch(edited, "value")
        return cell

    def resize(event):
        if state["settings"]["custom"].shape[0] == event.new or apply(custom=identity_kernel(event.new)):
            fill_cells()

    def copy_preset(_):
        k = state["result"]["kernels"][state["settings"]["filter"]]
        if k is None or k.shape[0] != k.shape[1] or k.shape[0] not in CUSTOM_SIZES:
            shape = "none" if k is None else f"{k.shape[0]}x{k.shape[1]}"
            state["message"] = ("error", "err_settings", {"why": ("why_custom_shape", {"shape": shape})})
            say()
            return
        state["settings"]["custom"] = k.astype(np.float32).copy()
        w["custom_size"].value = k.shape[0]      # resize() sees the size already matches: keeps the copy
        fill_cells()
        filter_select.value = "custom"           # recomputes with the copy

    def refresh():
        name = state["settings"]["filter"]
        table.object = kernel_html(name, state["result"]["kernels"][name], lang)
        w["custom_size"].visible = cells.visible = name == "custom"
        table.visible = name != "custom"                             # the grid already shows it
        w["copy"].visible = name not in NONLINEAR and name != "custom"

    w["custom_size"].param.watch(resize, "value")
    w["copy"].on_click(copy_preset)
    fill_cells()
    return types.SimpleNamespace(panel=pn.Column(w["custom_size"], cells, table, w["copy"]), refresh=refresh,
                                 widgets=w, cells=cells, table=table, fill_cells=fill_cells)


def layer_view(state, t, lang, changed):
    """The layer's stride, zero padding and bias (a single convolution's only), and more filters in the same
    layer, one feature map each (changed() on every edit)."""
    s = state["settings"]
    w = {
        "stride": pn.widgets.IntSlider(label=t("stride"), start=1, end=4, value=s["stride"],
                                       css_classes=["conv-stride"], width=200),
        "padding": pn.widgets.RadioButtonGroup(label=t("padding"), value=s["padding"],
                                               options={t("padding_valid"): "valid", t("padding_same"): "same"},
                                               css_classes=["conv-padding"]),
        "bias": pn.widgets.FloatInput(label=t("bias"), value=float(s["bias"]), step=1.0,
                                      css_classes=["conv-bias"], width=95),
        # Check boxes, not a MultiChoice: BokehJS builds that on Choices.js, which warns on every page.
        "extra": pn.widgets.CheckBoxGroup(options=filter_options(lang), value=list(s["extra"]), inline=False,
                                          css_classes=["conv-extra-filters"], width=300),
    }

    def settings():
        return {"stride": w["stride"].value, "padding": w["padding"].value,
                "bias": w["bias"].value, "extra": list(w["extra"].value)}

    def refresh():
        for key in ("stride", "padding", "bias"):
            w[key].disabled = state["settings"]["filter"] in NONLINEAR

    for widget in w.values():
        widget.param.watch(lambda event: changed(), "value")
    panel = pn.Column(w["stride"], pn.pane.HTML(f"<small>{t('padding')}</small>", margin=(0, 10)), w["padding"],
                      w["bias"], pn.pane.HTML(f"<small>{t('extra_filters')}</small>", margin=(5, 10, 0, 10)),
                      w["extra"])
    return types.SimpleNamespace(panel=panel, refresh=refresh, widgets=w, settings=settings)


def plots_view(state, t, lang, select_pixel):
    """The input and the main feature map (a click on an output pixel calls select_pixel(i, j)), with the
    receptive field and the clicked pixel marked (mark(info)), and the layer's other feature maps."""
    in_fig, in_src, in_map = image_plot(state["image"], "", "conv-input-plot", tools="pan,wheel_zoom,reset")
    out_fig, out_src, out_map = image_plot(state["result"]["maps"][state["settings"]["filter"]], "",
                                           "conv-output-plot")
    field = views.mark(in_fig, "conv-receptive-field", "red", fill_alpha=0.2)
    pixel = views.mark(out_fig, "conv-selected-pixel", "red")
    thumbs, map_sources = [], []        # the extra feature maps' figures, made when first needed
    thumb_row = pn.Row(css_classes=["conv-feature-maps"])

    def show_extra(res):
        extra = res["names"][1:]
        while len(thumbs) < len(extra):     # not at start: the first view stays light
            fig, src, mapper = image_plot(res["maps"][extra[len(thumbs)]], "", "conv-feature-map", width=150,
                                          tools="pan,wheel_zoom,reset")
            thumbs.append((fig, src, mapper))
            map_sources.append(src)
            thumb_row.append(pn.pane.Bokeh(fig))
        for n, (pane, (fig, src, mapper)) in enumerate(zip(thumb_row, thumbs)):
            pane.visible = fig.visible = n < len(extra)   # the pane alone does not hide a figure
            if n < len(extra):
                show_array(fig, src, mapper, res["maps"][extra[n]])
                fig.title.text = filter_label(lang, extra[n])

    def refresh():
        name, image = state["settings"]["filter"], state["image"]
        show_array(in_fig, in_src, in_map, image)
        in_fig.title.text = t("input_plot", h=image.shape[0], w=image.shape[1])
        out = state["result"]["maps"][name]
        show_array(out_fig, out_src, out_map, out)
        out_fig.title.text = t("output_plot", name=filter_label(lang, name), h=out.shape[0], w=out.shape[1])
        show_extra(state["result"])

    def mark(info):
        """The receptive field of the inspected pixel on the input, the pixel on the map (none: info is None)."""
        field.show(info and info["rect"])
        pixel.show(info and {"top": info["i"], "bottom": info["i"] + 1, "left": info["j"], "right": info["j"] + 1})

    def on_tap(event):
        hit = tapped_pixel(event, state["result"]["maps"][state["settings"]["filter"]].shape)
        if hit is not None:
            select_pixel(*hit)

    out_fig.on_event(events.Tap, on_tap)
    return types.SimpleNamespace(
        panel=pn.Column(pn.Row(pn.pane.Bokeh(in_fig), pn.pane.Bokeh(out_fig)), thumb_row), refresh=refresh,
        mark=mark, on_tap=on_tap, figures={"input": in_fig, "output": out_fig},
        marks={"receptive_field": field, "selected": pixel},
        sources={"input": in_src, "output": out_src, "receptive_field": field.source, "selected": pixel.source,
                 "maps": map_sources})


def numbers_view(state, lang):
    """The layer arithmetic: output shape, weights, multiplications, and what a dense layer would need."""
    numbers = pn.pane.HTML("", css_classes=["conv-numbers"], width=PLOT_PX * 2)

    def refresh():
        numbers.object = numbers_html(state["result"]["numbers"], state["result"]["names"], lang)

    return types.SimpleNamespace(panel=numbers, refresh=refresh)


def dot_view(state, lang, mark):
    """How the clicked output pixel (state["tap"]) was made, its receptive field marked on the plots (mark)."""
    detail = pn.pane.HTML("", css_classes=["conv-dot-product"], stylesheets=[TABLE_CSS])

    def refresh():
        info = None
        if state["tap"] is not None:
            try:
                info = inspect(state["image"], state["result"], state["settings"], *state["tap"])
            except ValueError:
                state["tap"] = None      # the pixel no longer exists (e.g. a larger stride)
        mark(info)
        detail.object = inspect_html(info, lang)

    return types.SimpleNamespace(panel=detail, refresh=refresh)


def export_view(state, t, lang):
    """Take it away: the main kernel as a NumPy array literal to paste into Python, the feature map as a PNG."""
    code = pn.pane.HTML("", css_classes=["conv-export-kernel"], stylesheets=[EXPORT_CSS], width=PLOT_PX * 2)
    png = pn.widgets.FileDownload(label=t("export_png"), filename="feature_map.png", css_classes=["conv-export-png"],
                                  width=240, callback=lambda: io.BytesIO(export.map_png(main_map(state))))

    def refresh():
        name = state["settings"]["filter"]
        kernel = state["result"]["kernels"][name]
        png.filename = f"feature_map_{name}.png"
        text = (f"import numpy as np\n{export.kernel_literal(kernel)}" if kernel is not None else
                f"# {i18n.text(lang, 'nonlinear_note', name=filter_label(lang, name))}")
        code.object = f"<b>{t('export_kernel')}</b><pre>{html.escape(text)}</pre>"

    return types.SimpleNamespace(panel=pn.Column(code, png), refresh=refresh, code=code, png=png)


def main_map(state):
    return state["result"]["maps"][state["settings"]["filter"]]


# ---------------------------------------------------------------- what the lab does

def apply(lab, image=None, image_name=None, custom=None, notice=None):
    """Recompute from the widgets (and a new image or custom kernel); keep the last good state on error."""
    state, v = lab.state, lab.views
    if lab.muted:                       # `restore` is setting the widgets to a state it already computed
        return True
    new = {**v.filter.settings(), "custom": state["settings"]["custom"] if custom is None else custom,
           **v.layer.settings()}
    img = state["image"] if image is None else image
    try:
        res = compute(img, new)
    except ValueError as e:
        state["message"] = ("error", "err_settings", {"why": reason(e)})
        v.message.refresh()
        return False
    state.update(settings=res["settings"], result=res, image=img, message=notice,
                 image_name=image_name or state["image_name"])
    show(lab)
    return True


def show(lab):
    """Push the current state to every view (one data change per plot)."""
    v = lab.views
    for view in (v.plots, v.kernel, v.numbers, v.filter, v.layer, v.message, v.dot, v.export):
        view.refresh()


def select_pixel(lab, i, j):
    """What a click on output pixel (i, j) does."""
    lab.state["tap"] = (int(i), int(j))
    lab.views.dot.refresh()


# ---------------------------------------------------------------- settings in the page's URL

def url_state(state):
    """The lab's settings as small JSON-able data (see docs/api.md): the demo photo (an upload cannot travel),
    filter, size, sigma, my kernel's cells, stride, padding, bias, extra filters."""
    s = state["settings"]
    photo = {"photo": state["image_name"]} if state["image_name"] in state["demos"] else {}
    return {**photo, "filter": s["filter"], "size": s["size"], "sigma": s["sigma"],
            "kernel": [[float(str(v)) for v in row] for row in s["custom"]],     # float32's shortest text
            "stride": s["stride"], "padding": s["padding"], "bias": s["bias"], "extra": list(s["extra"])}


def refusing(check, allowed):
    """A lab's check(value) as a link's check(name, value): its ValueError becomes urlstate.Refused, saying what
    the setting may be (`allowed`, in words any language reads)."""
    def check_link(name, value):
        try:
            return check(value)
        except ValueError:       # (a huge int is quoted shortened: repr() refuses ints of 4300+ digits)
            big = isinstance(value, int) and not -10**30 < value < 10**30
            raise urlstate.Refused(name, short(value) if big else value, allowed) from None
    return check_link


def url_checks(demos):
    """{url key: check(name, value) -> value, raising urlstate.Refused}: the lab's own checks (CHECKS)."""
    def by(field, allowed):
        return refusing(CHECKS[field], allowed)
    return {"photo": lambda name, value: urlstate.choice(name, value, demos),
            "filter": by("filter", ", ".join(FILTERS)), "size": by("size", f"1…{MAX_KERNEL} (odd)"),
            "sigma": by("sigma", "{}…{}".format(*SIGMA_RANGE)),
            "kernel": by("custom", f"3×3, 5×5: {fmt(-CELL_LIMIT)}…{fmt(CELL_LIMIT)}"),
            "stride": by("stride", f"1…{MAX_STRIDE} (int)"), "padding": by("padding", "valid, same"),
            "bias": by("bias", f"{fmt(-BIAS_LIMIT)}…{fmt(BIAS_LIMIT)}"),
            "extra": by("extra", f"≤ {MAX_EXTRA}: {', '.join(FILTERS)}")}


def restore(lab, data):
    """Apply what a link asks for (data: a url_state); what is missing or refused keeps its default, and
    settings that do not fit together (a 31×31 kernel on a small photo without padding) give way to the
    defaults. Returns notices, (i18n key, values) pairs, for the page to show; never raises."""
    state = lab.state
    defaults = url_state({**state, "settings": default_settings(), "image_name": default_photo(state["demos"])})
    values, notices = urlstate.restore_fields(data, url_checks(state["demos"]), defaults)
    settings = {**{k: values[k] for k in CHECKS if k in values}, "custom": values["kernel"]}
    name = values["photo"]
    image = prepare_image(state["images"][name])[0] if name != state["image_name"] else state["image"]
    try:
        res = compute(image, settings)
    except ValueError as e:
        why = reason(e)
        notices.append(("url_failed", {"why": said(lab.lang, *why) if isinstance(why, tuple) else why}))
        res = compute(image, default_settings())
    state.update(settings=res["settings"], result=res, image=image, image_name=name, tap=None, message=None)
    sync_widgets(lab)
    show(lab)
    return notices


def sync_widgets(lab):
    """Show the state's settings in the widgets without recomputing on each (apply sees lab.muted)."""
    s, w = lab.state["settings"], lab.widgets
    lab.muted = True
    try:
        w["image"].value = lab.state["image_name"]
        for key in ("filter", "size", "sigma", "stride", "padding", "bias", "extra"):
            w[key].value = s[key]
        w["custom_size"].value = s["custom"].shape[0]
        lab.views.kernel.fill_cells()
    finally:
        lab.muted = False


# ---------------------------------------------------------------- the lab

def build(state, lang="en"):
    """The lab's layout over `state` (kept across rebuilds, e.g. a language switch).

    Returns a namespace: layout, widgets {name: widget}, sources {name: ColumnDataSource}, state, and the
    callbacks tests call directly: select_pixel(i, j), load_upload(filename, bytes), on_tap(event), refresh().
    """
    t = functools.partial(i18n.text, lang)
    lab = types.SimpleNamespace(state=state, lang=lang, muted=False)
    recompute = functools.partial(apply, lab)
    v = lab.views = types.SimpleNamespace(message=message_view(state, lang))
    v.image = image_view(state, t, recompute, v.message.refresh)
    v.filter = filter_view(state, t, lang, recompute)
    v.kernel = kernel_view(state, t, lang, recompute, v.message.refresh, v.filter.widgets["filter"])
    v.layer = layer_view(state, t, lang, recompute)
    v.plots = plots_view(state, t, lang, functools.partial(select_pixel, lab))
    v.numbers, v.dot = numbers_view(state, lang), dot_view(state, lang, v.plots.mark)
    v.export = export_view(state, t, lang)
    show(lab)

    controls = pn.Column(v.image.panel, v.filter.panel, v.kernel.panel, v.layer.panel,
                         width=320, css_classes=["conv-controls"])
    plots = pn.Column(v.message.panel, v.plots.panel, v.numbers.panel, v.dot.panel, v.export.panel)
    lab.layout = pn.Row(controls, plots, css_classes=["conv-lab"])

    lab.widgets = {**v.image.widgets, **v.filter.widgets, **v.kernel.widgets, **v.layer.widgets}
    lab.message, lab.numbers, lab.detail = v.message.panel, v.numbers.panel, v.dot.panel
    lab.cells, lab.kernel_view = v.kernel.cells, v.kernel.table
    lab.figures, lab.sources = v.plots.figures, v.plots.sources
    lab.select_pixel, lab.on_tap = functools.partial(select_pixel, lab), v.plots.on_tap
    lab.load_upload, lab.refresh = v.image.load_upload, functools.partial(show, lab)
    lab.url_state, lab.restore = functools.partial(url_state, state), functools.partial(restore, lab)
    return lab


def room(session, lang):
    """The lab as a room of the page (see app.py): its state lives in the session, so a rebuild keeps it."""
    if not hasattr(session, "conv_state"):
        session.conv_state = initial_state()
    return build(session.conv_state, lang)
