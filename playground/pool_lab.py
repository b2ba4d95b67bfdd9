"""Pooling lab (풀링): max and average pooling of the input photo or of a feature map from the convolution lab.

Storyboard:
1. The student chooses what to pool (the grey input, or the convolution lab's current feature map),
   max or average pooling (최대/평균 풀링), the pool size and the stride (보폭).
2. They see the pooled map, its shape, and, for max pooling, every input pixel that won a window (red).
3. Clicking a pooled pixel shows its window on the input and where its maximum came from.

State is a plain dict; `compute` and `inspect` are pure; widgets are bound at the bottom in `build`.
"""
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


# ---------------------------------------------------------------- widgets, bound at the bottom

def build(state, conv_state, lang="en"):
    """The lab's layout. `conv_state` is the convolution lab's state (its input and feature map).

    Returns a namespace: layout, widgets, sources, state, select_pixel(i, j), refresh().
    """
    t = lambda key, **kw: i18n.text(lang, key, **kw)
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
    message = pn.pane.Alert("", alert_type="danger", visible=False, css_classes=["pool-message"])
    numbers = pn.pane.HTML("", css_classes=["pool-numbers"])
    detail = pn.pane.HTML("", css_classes=["pool-detail"], stylesheets=[TABLE_CSS])

    x = source_array(conv_state, s["source"])
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
    photo = conv_state["image"]
    photo_fig, photo_src, photo_map = image_plot(photo, "", "pool-photo-plot", width=200, tools="pan,wheel_zoom,reset")
    field_src = ColumnDataSource(rect_data(None), name="pool-photo-field")
    photo_fig.quad(source=field_src, left="left", right="right", top="top", bottom="bottom",
                   fill_color="yellow", fill_alpha=0.25, line_color="orange", line_width=2)
    photo_pane = pn.pane.Bokeh(photo_fig, visible=False)
    view = {"x": x, "result": None}

    def show_detail():
        info = None
        if state["tap"] is not None:
            try:
                info = inspect(view["x"], state["settings"], *state["tap"])
            except ValueError:
                state["tap"] = None
        window_src.data = rect_data(info and info["rect"])
        win = info and info["winner"]
        winner_src.data = rect_data(win and {"top": win[0], "bottom": win[0] + 1, "left": win[1], "right": win[1] + 1})
        i, j = state["tap"] or (0, 0)
        px_src.data = rect_data(info and {"top": i, "bottom": i + 1, "left": j, "right": j + 1})
        html = detail_html(info, i, j, lang)
        field = None
        if info is not None and state["settings"]["source"] == "map":
            field, one = photo_field(conv_state, info["rect"])
            html += field_html(field, one, lang)
        field_src.data = rect_data(field)
        detail.object = html

    def show():
        x, res = view["x"], view["result"]
        out = res["output"]
        show_array(in_fig, in_src, in_map, x)
        win_src.data = {"image": [overlay_rgba(res["winners"], x.shape)], "dw": [x.shape[1]], "dh": [x.shape[0]]}
        in_fig.title.text = t("pool_input_plot" if res["winners"] is not None else "pool_input_plot_avg",
                              h=x.shape[0], w=x.shape[1])
        show_array(out_fig, out_src, out_map, out)
        out_fig.title.text = t("pool_output_plot", h=out.shape[0], w=out.shape[1])
        numbers.object = t("pool_numbers", h=x.shape[0], w=x.shape[1], ho=out.shape[0], wo=out.shape[1])
        on_map = state["settings"]["source"] == "map"
        photo_pane.visible = photo_fig.visible = on_map
        if on_map:
            show_array(photo_fig, photo_src, photo_map, conv_state["image"])
            photo_fig.title.text = t("pool_photo_plot")
        message.visible = state["message"] is not None
        message.object = state["message"] or ""
        show_detail()

    def refresh():
        """Recompute from the widgets and the conv lab's current arrays; keep the last good view on error."""
        new = {key: widget.value for key, widget in w.items()}
        x = source_array(conv_state, new["source"])
        try:
            res = compute(x, new)
        except ValueError as e:
            state["message"] = t("err_settings", why=str(e))
            message.object, message.visible = state["message"], True
            return False
        state.update(settings=new, message=None)
        view.update(x=x, result=res)
        show()
        return True

    def select_pixel(i, j):
        state["tap"] = (int(i), int(j))
        show_detail()

    def on_tap(event):
        hit = tapped_pixel(event, view["result"]["output"].shape)
        if hit is not None:
            select_pixel(*hit)

    for widget in w.values():
        widget.param.watch(lambda event: refresh(), "value")
    out_fig.on_event(events.Tap, on_tap)
    if not refresh():                     # the saved settings no longer fit (e.g. a smaller feature map)
        view.update(x=x, result=compute(x, {**s, "size": 1, "stride": 1}))
        show()

    controls = pn.Column(
        pn.pane.HTML(f"<small>{t('pool_source')}</small>", margin=(0, 10)), w["source"],
        pn.pane.HTML(f"<small>{t('pool_kind')}</small>", margin=(0, 10)), w["kind"],
        w["size"], w["stride"], width=320, css_classes=["pool-controls"])
    plots = pn.Column(message, pn.Row(pn.pane.Bokeh(in_fig), pn.pane.Bokeh(out_fig), photo_pane), numbers, detail)
    layout = pn.Row(controls, plots, css_classes=["pool-lab"])
    return types.SimpleNamespace(
        layout=layout, widgets=w, state=state, view=view, message=message, numbers=numbers, detail=detail,
        figures={"input": in_fig, "output": out_fig, "photo": photo_fig},
        sources={"input": in_src, "output": out_src, "winners": win_src, "window": window_src, "winner": winner_src,
                 "photo": photo_src, "photo_field": field_src,
                 "selected": px_src},
        select_pixel=select_pixel, on_tap=on_tap, refresh=refresh)
