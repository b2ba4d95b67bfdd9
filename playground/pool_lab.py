"""Pooling lab (풀링): max and average pooling of the input photo or of a feature map from the convolution lab.

Storyboard:
1. The student chooses what to pool (the grey input, or the convolution lab's current feature map),
   max or average pooling (최대/평균 풀링), the pool size and the stride (보폭).
2. They see the pooled map, its shape, and, for max pooling and if they ask, every input pixel that won a
   window (red; off at first: on a whole photo one pixel in four lights up and the photo reads as noise).
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
from . import conv_lab, i18n, urlstate, views
from .views import TABLE_CSS, fmt, image_plot, show_array, tapped_pixel

# Half-transparent red as bokeh's RGBA uint32 (bytes R, G, B, A): the photo stays readable under the winners.
WINNER_RGBA = np.array([230, 30, 30, 150], np.uint8).view(np.uint32)[0]
MAX_POOL = 8              # pool size and stride: 1..8 (the sliders' range; a link is checked against it too)
SOURCES, KINDS = ("input", "map"), ("max", "avg")


def default_settings():
    return {"source": "input", "kind": "max", "size": 2, "stride": 2}


def initial_state():
    return {"settings": default_settings(), "winners": False, "tap": None, "message": None}


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
        "size": pn.widgets.IntSlider(label=t("pool_size"), start=1, end=MAX_POOL, value=s["size"],
                                     css_classes=["pool-size"], width=200),
        "stride": pn.widgets.IntSlider(label=t("pool_stride"), start=1, end=MAX_POOL, value=s["stride"],
                                       css_classes=["pool-stride"], width=200),
    }
    winners = pn.widgets.Checkbox(label=t("pool_winners"), value=state["winners"], css_classes=["pool-winners"],
                                  width=300)
    panel = pn.Column(
        pn.pane.HTML(f"<small>{t('pool_source')}</small>", margin=(0, 10)), w["source"],
        pn.pane.HTML(f"<small>{t('pool_kind')}</small>", margin=(0, 10)), w["kind"],
        w["size"], w["stride"], winners, width=320, css_classes=["pool-controls"])
    return types.SimpleNamespace(panel=panel, widgets=w, winners=winners)


def plots_view(state, conv_state, view, t, lang, select_pixel):
    """The input (max pooling's winners in red when state["winners"]), the pooled map (a click calls
    select_pixel(i, j)) and, when pooling a feature map, the photo; mark(info, pixel, field) draws the clicked
    window, its winner and the field it sees on the photo."""
    x = view["x"]
    in_fig, in_src, in_map = image_plot(x, "", "pool-input-plot", tools="pan,wheel_zoom,reset")
    win_src = ColumnDataSource({"image": [overlay_rgba(None, x.shape)], "dw": [x.shape[1]], "dh": [x.shape[0]]},
                               name="pool-argmax")
    overlay = in_fig.image_rgba(image="image", x=0, y=0, dw="dw", dh="dh", source=win_src)
    window = views.mark(in_fig, "pool-window", "orange", fill_alpha=0.25)
    out_fig, out_src, out_map = image_plot(x, "", "pool-output-plot")
    winner = views.mark(in_fig, "pool-winner", "blue", fill_alpha=0.8)
    pixel = views.mark(out_fig, "pool-selected-pixel", "orange")
    photo_fig, photo_src, photo_map = image_plot(conv_state["image"], "", "pool-photo-plot", width=220,
                                                 tools="pan,wheel_zoom,reset")
    # A thumbnail without axes: laid out while hidden, BokehJS leaves its x axis no room for labels when it
    # shows (issue 14's "no x labels"); the detail below gives the field's rows and columns in words.
    photo_fig.axis.visible = False
    field = views.mark(photo_fig, "pool-photo-field", "orange", fill_alpha=0.25)
    photo_pane = pn.pane.Bokeh(photo_fig, visible=False)

    def refresh():
        x, out, winners = view["x"], view["result"]["output"], view["result"]["winners"]
        show_array(in_fig, in_src, in_map, x)
        win_src.data = {"image": [overlay_rgba(winners, x.shape)], "dw": [x.shape[1]], "dh": [x.shape[0]]}
        overlay.visible = state["winners"]
        on_map = state["settings"]["source"] == "map"
        if on_map:      # the left plot shows the conv lab's feature map, and says so
            name = conv_state["settings"]["filter"]
            in_fig.title.text = t("output_plot", name=conv_lab.filter_label(lang, name), h=x.shape[0], w=x.shape[1])
        else:
            in_fig.title.text = t("pool_input_plot", h=x.shape[0], w=x.shape[1])
        show_array(out_fig, out_src, out_map, out)
        out_fig.title.text = t("pool_output_plot", h=out.shape[0], w=out.shape[1])
        photo_pane.visible = photo_fig.visible = on_map
        if on_map:
            show_array(photo_fig, photo_src, photo_map, conv_state["image"])
            photo_fig.title.text = t("pool_photo_plot")

    def mark(info, pixel_ij, field_rect):
        window.show(info and info["rect"])
        win = info and info["winner"]
        winner.show(win and {"top": win[0], "bottom": win[0] + 1, "left": win[1], "right": win[1] + 1})
        i, j = pixel_ij
        pixel.show(info and {"top": i, "bottom": i + 1, "left": j, "right": j + 1})
        field.show(field_rect)

    def on_tap(event):
        hit = tapped_pixel(event, view["result"]["output"].shape)
        if hit is not None:
            select_pixel(*hit)

    out_fig.on_event(events.Tap, on_tap)
    return types.SimpleNamespace(
        panel=pn.Row(pn.pane.Bokeh(in_fig), pn.pane.Bokeh(out_fig), photo_pane), refresh=refresh, mark=mark,
        on_tap=on_tap, figures={"input": in_fig, "output": out_fig, "photo": photo_fig}, overlay=overlay,
        sources={"input": in_src, "output": out_src, "winners": win_src, "window": window.source,
                 "winner": winner.source, "photo": photo_src, "photo_field": field.source, "selected": pixel.source})


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

def check_settings(settings):
    """The pooling settings within their bounds -> a clean dict; LabError naming the field otherwise (core
    checks that the pool fits its input)."""
    return {key: check(settings[key]) for key, check in CHECKS.items()}


def choice_of(key, options):
    def check(value):
        if not isinstance(value, str) or value not in options:
            raise conv_lab.LabError("why_choice", field=(key, {}), value=conv_lab.short(value),
                                    names=", ".join(options))
        return value
    return check


CHECKS = {"source": choice_of("pool_source", SOURCES), "kind": choice_of("pool_kind", KINDS),
          "size": lambda v: conv_lab.bounded(v, "pool_size", 1, MAX_POOL, integer=True),
          "stride": lambda v: conv_lab.bounded(v, "pool_stride", 1, MAX_POOL, integer=True)}


def recompute(lab, **settings):
    """Pool with these settings and the conv lab's current arrays; on error say why and keep the last good view."""
    if lab.muted:                           # restore() is setting the widgets to what it computed already
        return True
    try:
        settings = check_settings(settings)
        x = source_array(lab.conv_state, settings["source"])
        res = compute(x, settings)
    except ValueError as e:
        lab.state["message"] = lab.t("err_settings", why=reason_text(e, lab.lang))
        lab.views.message.refresh()
        return False
    lab.state.update(settings=settings, message=None)
    lab.view.update(x=x, result=res)
    show(lab)
    return True


def reason_text(error, lang):
    why = conv_lab.reason(error)
    return conv_lab.said(lang, *why) if isinstance(why, tuple) else why


def show_winners(lab, on):
    lab.state["winners"] = bool(on)
    lab.views.plots.refresh()


# ---------------------------------------------------------------- settings in the page's URL

def url_state(state):
    """The lab's settings as small JSON-able data: source, kind, size, stride, and whether winners are marked."""
    return {**state["settings"], "winners": state["winners"]}


URL_CHECKS = {"source": conv_lab.refusing(CHECKS["source"], ", ".join(SOURCES)),
              "kind": conv_lab.refusing(CHECKS["kind"], ", ".join(KINDS)),
              "size": conv_lab.refusing(CHECKS["size"], f"1…{MAX_POOL} (int)"),
              "stride": conv_lab.refusing(CHECKS["stride"], f"1…{MAX_POOL} (int)"),
              "winners": urlstate.flag}


def restore(lab, data):
    """Apply what a link asks for; what is missing or refused keeps its default, and a pool that does not fit
    its input gives way to the defaults. Returns notices, (i18n key, values) pairs, for the page to show;
    never raises."""
    values, notices = urlstate.restore_fields(data, URL_CHECKS, url_state(initial_state()))
    winners = values.pop("winners")
    x = source_array(lab.conv_state, values["source"])
    try:
        res = compute(x, values)
    except ValueError as e:
        notices.append(("url_failed", {"why": reason_text(e, lab.lang)}))
        values = default_settings()
        x = source_array(lab.conv_state, values["source"])
        res = compute(x, values)
    lab.state.update(settings=values, winners=winners, tap=None, message=None)
    lab.view.update(x=x, result=res)
    lab.muted = True
    try:
        for key, widget in lab.widgets.items():
            widget.value = values[key]
        lab.views.controls.winners.value = winners
    finally:
        lab.muted = False
    show(lab)
    return notices


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
    lab = types.SimpleNamespace(state=state, conv_state=conv_state, t=t, lang=lang, muted=False,
                                view={"x": x, "result": None})
    v = lab.views = types.SimpleNamespace(controls=controls_view(state, t), message=message_view(state))
    v.plots = plots_view(state, conv_state, lab.view, t, lang, functools.partial(select_pixel, lab))
    v.numbers, v.detail = numbers_view(lab.view, t), detail_view(state, conv_state, lab.view, lang, v.plots.mark)
    lab.refresh = lambda: recompute(lab, **{key: w.value for key, w in v.controls.widgets.items()})
    pn.bind(functools.partial(recompute, lab), **v.controls.widgets, watch=True)
    pn.bind(functools.partial(show_winners, lab), v.controls.winners, watch=True)
    if not lab.refresh():                 # the saved settings no longer fit (e.g. a smaller feature map)
        lab.view.update(x=x, result=compute(x, {**state["settings"], "size": 1, "stride": 1}))
        show(lab)

    plots = pn.Column(v.message.panel, v.plots.panel, v.numbers.panel, v.detail.panel)
    lab.layout = pn.Row(v.controls.panel, plots, css_classes=["pool-lab"])
    lab.widgets, lab.figures, lab.sources = v.controls.widgets, v.plots.figures, v.plots.sources
    lab.message, lab.numbers, lab.detail = v.message.panel, v.numbers.panel, v.detail.panel
    lab.select_pixel, lab.on_tap = functools.partial(select_pixel, lab), v.plots.on_tap
    lab.widgets_winners = v.controls.winners
    lab.url_state, lab.restore = functools.partial(url_state, state), functools.partial(restore, lab)
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
