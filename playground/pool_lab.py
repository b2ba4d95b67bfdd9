"""Pooling lab (풀링): max and average pooling of the input photo or of a feature map from the convolution lab.

Storyboard:
1. The student chooses what to pool (the grey input, or the convolution lab's current feature map),
   max or average pooling (최대/평균 풀링), the pool size and the stride (보폭).
2. They see the pooled map, its shape, and, for max pooling, every input pixel that won a window (red).
3. Clicking a pooled pixel shows its window on the input and where its maximum came from.

State is a plain dict; `compute` and `inspect` are pure. One view function per part (controls, plots,
numbers, the clicked window's detail, message) returns its panel and refresh; `build` lays them out.
"""
import functools
import types

import numpy as np
import panel as pn
from bokeh import events
from bokeh.models import ColumnDataSource

from core import pooling, receptive
from . import conv_lab, i18n
from .views import TABLE_CSS, fmt, image_plot, rect_data, show_array, tapped_pixel

# Half-transparent red as bokeh's RGBA uint32 (bytes R, G, B, A): the photo stays readable under the winners.
WINNER_RGBA = np.array([230, 30, 30, 150], np.uint8).view(np.uint32)[0]


def initial_state():
    return {"settings": {"source": "input", "kind": "max", "size": 2, "stride": 2}, "tap": None, "message": None}


# ---------------------------------------------------------------- pure functions

def source_array(conv_state, source):
    """The 2-D array to pool: the conv lab's grey input or its main feature map."""
    if source == "map":
        return conv_state["result"]["maps"][conv_state["settings"]["filter"]]
    return conv_state["image"]


def compute(x, settings):
    """Pool x (H, W) with core.pooling. Returns dict: output (Ho, Wo) and, for max pooling, winners (H, W) bool.

    ValueError (from core, naming the layer and shapes) if the pool does not fit.
    """
    x4 = np.asarray(x, np.float32)[None, :, :, None]
    size, stride = settings["size"], settings["stride"]
    if settings["kind"] == "max":
        out, _ = pooling.max_pool_forward(x4, size, stride)
        rows, cols = pooling.max_pool_argmax(x4, size, stride)
        winners = receptive.winner_mask(x.shape, rows[0, :, :, 0], cols[0, :, :, 0])
    elif settings["kind"] == "avg":
        out, _ = pooling.avg_pool_forward(x4, size, stride)
        winners = None
    else:
        raise ValueError(f"pooling: kind must be 'max' or 'avg', got {settings['kind']!r}")
    return {"output": out[0, :, :, 0], "winners": winners}


def inspect(x, settings, i, j):
    """The window of pooled pixel (i, j) and its max (with the winner's position) or mean."""
    return receptive.pool_window(x, i, j, settings["size"], settings["stride"], settings["kind"])


def photo_field(conv_state, rect):
    """When pooling the conv lab's feature map: the photo rectangle that a pool window `rect` (on the map) sees,
    and the rectangle one feature-map pixel sees, for comparison. Both from core.receptive."""
    settings, result = conv_state["settings"], conv_state["result"]
    size, stride, padding = conv_lab.filter_window(settings["filter"], result, settings)
    shape = conv_state["image"].shape
    one = {"top": rect["top"], "left": rect["left"], "bottom": rect["top"] + 1, "right": rect["left"] + 1}
    return (receptive.input_rect(rect, size, stride, padding, shape),
            receptive.input_rect(one, size, stride, padding, shape))


def field_html(field, one, lang):
    return "<div>" + i18n.text(
        lang, "pool_field", top=field["top"], bottom=field["bottom"] - 1, left=field["left"],
        right=field["right"] - 1, h=field["bottom"] - field["top"], w=field["right"] - field["left"],
        kh=one["bottom"] - one["top"], kw=one["right"] - one["left"]) + "</div>"


def overlay_rgba(winners, shape):
    """Winners as a red RGBA uint32 image (transparent elsewhere) to lay over the input."""
    img = np.zeros(shape, np.uint32)
    if winners is not None:
        img[winners] = WINNER_RGBA
    return img


def detail_html(info, i, j, lang):
    if info is None:
        return f"<i>{i18n.text(lang, 'pool_hint')}</i>"
    r = info["rect"]
    where = {"top": r["top"], "bottom": r["bottom"] - 1, "left": r["left"], "right": r["right"] - 1,
             "output": fmt(info["output"])}
    if info["winner"] is not None:
        line = i18n.text(lang, "pool_detail_max", r=info["winner"][0], c=info["winner"][1], **where)
    else:
        line = i18n.text(lang, "pool_detail_avg", n=info["patch"].size, **where)
    win = info["winner"] and (info["winner"][0] - r["top"], info["winner"][1] - r["left"])
    rows = "".join("<tr>" + "".join(f"<td class=win>{fmt(v)}</td>" if (a, b) == win else f"<td>{fmt(v)}</td>"
                                     for b, v in enumerate(row)) + "</tr>"
                   for a, row in enumerate(info["patch"]))
    return f"<b>({i}, {j})</b> {line}<table class='pool-window'>{rows}</table>"


# ---------------------------------------------------------------- views: each returns its panel and its refresh
# `view` is what is on screen: the pooled input x (H, W) and its result; state holds the settings, tap, message.

def controls_view(state, t):
    """What to pool (the photo or the conv lab's feature map), max or average, the pool size and the stride."""
    s = state["settings"]
    w = {
        "source": pn.widgets.RadioButtonGroup(label=t("pool_source"), value=s["source"],
                                              options={t("pool_src_input"): "input", t("pool_src_map"): "map"},
                                              css_classes=["pool-source"]),
        "kind": pn.widgets.RadioButtonGroup(label=t("pool_kind"), value=s["kind"],
                                            options={t("pool_max"): "max", t("pool_avg"): "avg"},
                                            css_classes=["pool-kind"]),
        "size": pn.widgets.IntSlider(label=t("pool_size"), start=1, end=8, value=s["size"],
                                     css_classes=["pool-size"], width=200),
        "stride": pn.widgets.IntSlider(label=t("pool_stride"), start=1, end=8, value=s["stride"],
                                       css_classes=["pool-stride"], width=200),
    }
    panel = pn.Column(
        pn.pane.HTML(f"<small>{t('pool_source')}</small>", margin=(0, 10)), w["source"],
        pn.pane.HTML(f"<small>{t('pool_kind')}</small>", margin=(0, 10)), w["kind"],
        w["size"], w["stride"], width=320, css_classes=["pool-controls"])
    return types.SimpleNamespace(panel=panel, widgets=w)


def plots_view(state, conv_state, view, t, select_pixel):
    """The input with max pooling's winners in red, the pooled map (a click calls select_pixel(i, j)) and, when
    pooling a feature map, the photo; mark(info, pixel, field) draws the clicked window, winner and field."""
    x = view["x"]
    in_fig, in_src, in_map = image_plot(x, "", "pool-input-plot", tools="pan,wheel_zoom,reset")
    win_src = ColumnDataSource({"image": [overlay_rgba(None, x.shape)], "dw": [x.shape[1]], "dh": [x.shape[0]]},
                               name="pool-argmax")
    in_fig.image_rgba(image="image", x=0, y=0, dw="dw", dh="dh", source=win_src)
    window_src = ColumnDataSource(rect_data(None), name="pool-window")
    in_fig.quad(source=window_src, left="left", right="right", top="top", bottom="bottom",
                fill_color="yellow", fill_alpha=0.25, line_color="orange", line_width=2)
    out_fig, out_src, out_map = image_plot(x, "", "pool-output-plot")
    winner_src = ColumnDataSource(rect_data(None), name="pool-winner")
    in_fig.quad(source=winner_src, left="left", right="right", top="top", bottom="bottom",
                fill_color="blue", fill_alpha=0.8, line_color="blue")
    px_src = ColumnDataSource(rect_data(None), name="pool-selected-pixel")
    out_fig.quad(source=px_src, left="left", right="right", top="top", bottom="bottom",
                 fill_alpha=0, line_color="orange", line_width=2)
    photo_fig, photo_src, photo_map = image_plot(conv_state["image"], "", "pool-photo-plot", width=200,
                                                 tools="pan,wheel_zoom,reset")
    field_src = ColumnDataSource(rect_data(None), name="pool-photo-field")
    photo_fig.quad(source=field_src, left="left", right="right", top="top", bottom="bottom",
                   fill_color="yellow", fill_alpha=0.25, line_color="orange", line_width=2)
    photo_pane = pn.pane.Bokeh(photo_fig, visible=False)

    def refresh():
        x, out, winners = view["x"], view["result"]["output"], view["result"]["winners"]
        show_array(in_fig, in_src, in_map, x)
        win_src.data = {"image": [overlay_rgba(winners, x.shape)], "dw": [x.shape[1]], "dh": [x.shape[0]]}
        in_fig.title.text = t("pool_input_plot" if winners is not None else "pool_input_plot_avg",
                              h=x.shape[0], w=x.shape[1])
        show_array(out_fig, out_src, out_map, out)
        out_fig.title.text = t("pool_output_plot", h=out.shape[0], w=out.shape[1])
        on_map = state["settings"]["source"] == "map"
        photo_pane.visible = photo_fig.visible = on_map
        if on_map:
            show_array(photo_fig, photo_src, photo_map, conv_state["image"])
            photo_fig.title.text = t("pool_photo_plot")

    def mark(info, pixel, field):
        window_src.data = rect_data(info and info["rect"])
        win = info and info["winner"]
        winner_src.data = rect_data(win and {"top": win[0], "bottom": win[0] + 1, "left": win[1], "right": win[1] + 1})
        i, j = pixel
        px_src.data = rect_data(info and {"top": i, "bottom": i + 1, "left": j, "right": j + 1})
        field_src.data = rect_data(field)

    def on_tap(event):
        hit = tapped_pixel(event, view["result"]["output"].shape)
        if hit is not None:
            select_pixel(*hit)

    out_fig.on_event(events.Tap, on_tap)
    return types.SimpleNamespace(
        panel=pn.Row(pn.pane.Bokeh(in_fig), pn.pane.Bokeh(out_fig), photo_pane), refresh=refresh, mark=mark,
        on_tap=on_tap, figures={"input": in_fig, "output": out_fig, "photo": photo_fig},
        sources={"input": in_src, "output": out_src, "winners": win_src, "window": window_src, "winner": winner_src,
                 "photo": photo_src, "photo_field": field_src, "selected": px_src})


def numbers_view(view, t):
    """The shapes before and after: pooling has no weights and keeps the depth."""
    numbers = pn.pane.HTML("", css_classes=["pool-numbers"])

    def refresh():
        (h, w), (ho, wo) = view["x"].shape, view["result"]["output"].shape
        numbers.object = t("pool_numbers", h=h, w=w, ho=ho, wo=wo)

    return types.SimpleNamespace(panel=numbers, refresh=refresh)


def detail_view(state, conv_state, view, lang, mark):
    """The clicked pooled pixel's window, its max (and where it came from) or mean, and, pooling a feature map,
    the photo's pixels it sees; mark(info, pixel, field) draws them on the plots."""
    detail = pn.pane.HTML("", css_classes=["pool-detail"], stylesheets=[TABLE_CSS])

    def refresh():
        info = None
        if state["tap"] is not None:
            try:
                info = inspect(view["x"], state["settings"], *state["tap"])
            except ValueError:
                state["tap"] = None      # the pixel no longer exists (e.g. a larger pool)
        i, j = state["tap"] or (0, 0)
        html = detail_html(info, i, j, lang)
        field = None
        if info is not None and state["settings"]["source"] == "map":
            field, one = photo_field(conv_state, info["rect"])
            html += field_html(field, one, lang)
        mark(info, (i, j), field)
        detail.object = html

    return types.SimpleNamespace(panel=detail, refresh=refresh)


def message_view(state):
    """Why the last settings did not work (the last good view stays)."""
    message = pn.pane.Alert("", alert_type="danger", visible=False, css_classes=["pool-message"])

    def refresh():
        message.visible = state["message"] is not None
        message.object = state["message"] or ""

    return types.SimpleNamespace(panel=message, refresh=refresh)


# ---------------------------------------------------------------- what the lab does

def recompute(lab, **settings):
    """Pool with these settings and the conv lab's current arrays; on error say why and keep the last good view."""
    x = source_array(lab.conv_state, settings["source"])
    try:
        res = compute(x, settings)
    except ValueError as e:
        lab.state["message"] = lab.t("err_settings", why=str(e))
        lab.views.message.refresh()
        return False
    lab.state.update(settings=settings, message=None)
    lab.view.update(x=x, result=res)
    show(lab)
    return True


def show(lab):
    for view in (lab.views.plots, lab.views.numbers, lab.views.message, lab.views.detail):
        view.refresh()


def select_pixel(lab, i, j):
    lab.state["tap"] = (int(i), int(j))
    lab.views.detail.refresh()


# ---------------------------------------------------------------- the lab

def build(state, conv_state, lang="en"):
    """The lab's layout. `conv_state` is the convolution lab's state (its input and feature map).

    Returns a namespace: layout, widgets, sources, state, view, select_pixel(i, j), on_tap(event), refresh().
    """
    t = functools.partial(i18n.text, lang)
    x = source_array(conv_state, state["settings"]["source"])
    lab = types.SimpleNamespace(state=state, conv_state=conv_state, t=t, view={"x": x, "result": None})
    v = lab.views = types.SimpleNamespace(controls=controls_view(state, t), message=message_view(state))
    v.plots = plots_view(state, conv_state, lab.view, t, functools.partial(select_pixel, lab))
    v.numbers, v.detail = numbers_view(lab.view, t), detail_view(state, conv_state, lab.view, lang, v.plots.mark)
    lab.refresh = lambda: recompute(lab, **{key: w.value for key, w in v.controls.widgets.items()})
    pn.bind(functools.partial(recompute, lab), **v.controls.widgets, watch=True)
    if not lab.refresh():                 # the saved settings no longer fit (e.g. a smaller feature map)
        lab.view.update(x=x, result=compute(x, {**state["settings"], "size": 1, "stride": 1}))
        show(lab)

    plots = pn.Column(v.message.panel, v.plots.panel, v.numbers.panel, v.detail.panel)
    lab.layout = pn.Row(v.controls.panel, plots, css_classes=["pool-lab"])
    lab.widgets, lab.figures, lab.sources = v.controls.widgets, v.plots.figures, v.plots.sources
    lab.message, lab.numbers, lab.detail = v.message.panel, v.numbers.panel, v.detail.panel
    lab.select_pixel, lab.on_tap = functools.partial(select_pixel, lab), v.plots.on_tap
    return lab


def room(session, lang):
    """The lab as a room of the page (see app.py); it pools what the conv lab shows, so it looks again on reopen."""
    if not hasattr(session, "pool_state"):
        session.pool_state = initial_state()
    if not hasattr(session, "conv_state"):
        session.conv_state = conv_lab.initial_state()
    lab = build(session.pool_state, session.conv_state, lang)
    lab.reopen = lab.refresh
    return lab
