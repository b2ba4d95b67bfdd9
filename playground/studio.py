"""LeNet training studio (LeNet 학습 스튜디오): train LeNet-5 on MNIST, watch it learn, draw a digit.

Storyboard:
1. The student edits the architecture (Keras lines, LeNet-5 to start) and sees the layer table (output shape,
   weights, multiplications) update, or the reason a stack does not fit; picks the loss, optimizer and
   hyperparameters, batch size, epochs, training-set size, dropout, seed, and an imbalanced MNIST.
2. Start / pause / resume / stop / reset: training runs a few batches per tick of a periodic callback (the
   Pyodide worker stays responsive), with live loss and accuracy curves, images/s and progress.
3. Watch it learn: the first layer's filters and a test image's (or their drawing's) feature maps at every layer;
   the confusion matrix and the misclassified test images.
4. Draw a digit: it is prepared like MNIST (core.drawing), padded to 32x32 and classified; probabilities shown.
5. Save the weights (.npz) or load some (from the studio, core.train or the JAX scripts); a bad file says why.

All numbers come from core via playground.training.Trainer; this module only shows them.
`create_page(lang)` returns a namespace whose `.layout` is the page (and handles tests call).
"""
import asyncio
import html
import io
import time
import types

import os
import sys

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, FreehandDrawTool, Range1d
from bokeh.plotting import figure

if __package__ in (None, ""):          # `panel serve playground/studio.py` runs this file as a script
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from playground import studio_arch, studio_i18n, training, views, visual
else:
    from . import studio_arch, studio_i18n, training, views, visual
from core import datasets, drawing

TICK_MS = 50             # the periodic callback's period
TICK_S = 0.25            # training time per tick: short enough that Pause answers at once
YIELD_S = 0.01           # the event loop's turn after each tick (the page's clicks get in here)
REFRESH_S = 1.5          # how often the filters and feature maps are redrawn while training
DATA_RETRY_MS = 500      # how often the page looks for the MNIST subset while the site is still fetching it
MAX_MISCLASSIFIED = 40
MAP_PX = 150
CURVE_W, CURVE_H = 360, 220
SETTINGS = ("loss", "gamma", "alpha", "optimizer", "learning_rate", "momentum", "rho", "beta_1", "beta_2",
            "batch_size", "epochs", "train_size", "dropout", "seed", "imbalanced")
SHOWN_KINDS = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "Dense", "Activation")   # layers with maps to show
CONFUSION_CSS = """
table.confusion { border-collapse: collapse; font: 11px monospace; }
table.confusion td, table.confusion th { border: 1px solid #ddd; padding: 1px 4px; text-align: right; min-width: 24px; }
table.confusion th { background: #f4f4f4; }
"""


# ---------------------------------------------------------------- pure helpers: text and tables

def layer_table_html(table, t):
    """The model's layer table (core's numbers) as HTML, with the totals."""
    head = "".join(f"<th>{t(k)}</th>" for k in ("col_layer", "col_kind", "col_shape", "col_params", "col_mults"))
    rows = "".join(f"<tr><td>{html.escape(r['name'])}</td><td>{r['kind']}</td>"
                   f"<td>{'×'.join(map(str, r['output_shape']))}</td>"
                   f"<td>{r['params']:,}</td><td>{r['mults']:,}</td></tr>" for r in table)
    total = (f"<tr><th>{t('total')}</th><th></th><th></th><th>{sum(r['params'] for r in table):,}</th>"
             f"<th>{sum(r['mults'] for r in table):,}</th></tr>")
    return f"<table class='confusion layer-table'><tr>{head}</tr>{rows}{total}</table>"


def confusion_html(cm, t):
    """cm[true, predicted] counts as a table; cells shaded by their share of the row (green right, red wrong)."""
    n = cm.shape[0]
    head = "<tr><th></th>" + "".join(f"<th>{j}</th>" for j in range(n)) + f"<th>{t('recall')}</th></tr>"
    rows = []
    for i in range(n):
        total = max(int(cm[i].sum()), 1)
        cells = []
        for j in range(n):
            share = cm[i, j] / total
            colour = "40,160,60" if i == j else "220,50,40"
            style = f" style='background: rgba({colour},{share:.2f})'" if cm[i, j] else ""
            cells.append(f"<td{style}>{cm[i, j]}</td>")
        rows.append(f"<tr><th>{i}</th>{''.join(cells)}<td>{cm[i, i] / total:.0%}</td></tr>")
    return f"<table class='confusion'>{head}{''.join(rows)}</table>"


def status_text(trainer, t):
    run_epochs = trainer.config["epochs"]
    epoch = min(trainer.run["epoch"] + 1, run_epochs) if trainer.run else 0
    acc = trainer.history["val"]["accuracy"]
    return t("status_line", status=t("status_" + trainer.status), epoch=epoch, epochs=run_epochs,
             images=trainer.images_seen, ips=trainer.images_per_second, acc=f"{acc[-1]:.1%}" if acc else "–")


def message_text(message, t):
    if message is None:
        return ""
    _, key, values = message
    return t(key, **values)


# ---------------------------------------------------------------- bokeh pieces

def tile_plot(array, title, css, width=MAP_PX):
    """An image plot for arrays scaled to [0, 1] with NaN gaps (mosaics): a fixed colour range."""
    fig, source, mapper = views.image_plot(np.nan_to_num(array), title, css, width=width, tools="")
    fig.toolbar_location = None
    fig.axis.visible = False
    mapper.update(low=0.0, high=1.0, nan_color="#d0d0d0")
    source.data = {"image": [array], "dw": [array.shape[1]], "dh": [array.shape[0]]}
    return fig, source


def set_tiles(fig, source, array, width):
    h, w = array.shape
    if (fig.x_range.end, fig.y_range.start) != (w, h):
        fig.x_range.update(start=0, end=w)
        fig.y_range.update(start=h, end=0)
        fig.frame_width = width
        fig.frame_height = max(20, round(width * h / w))
    source.data = {"image": [array], "dw": [w], "dh": [h]}


def curve_plot(title, y_label, t, css):
    fig = figure(title=title, width=CURVE_W, height=CURVE_H, x_axis_label=t("x_images"), y_axis_label=y_label,
                 tools="pan,wheel_zoom,reset", toolbar_location="right", name=css, css_classes=[css])
    train = ColumnDataSource({"x": [], "y": []}, name=css + "-train")
    val = ColumnDataSource({"x": [], "y": []}, name=css + "-val")
    fig.line("x", "y", source=train, color="#1f77b4", legend_label=t("legend_train"))
    fig.line("x", "y", source=val, color="#d62728", line_width=2, legend_label=t("legend_val"))
    fig.scatter("x", "y", source=val, color="#d62728", size=4)
    fig.legend.location = "top_right" if css.endswith("loss") else "bottom_right"
    return fig, train, val


def drawing_canvas():
    """A 28x28-unit box (y downwards, like image rows) where dragging draws strokes into a multi_line source."""
    fig = figure(width=220, height=220, x_range=Range1d(0, 28), y_range=Range1d(28, 0), tools="",
                 toolbar_location=None, background_fill_color="black", name="studio-canvas",
                 css_classes=["studio-canvas"])
    fig.axis.visible = False
    fig.grid.visible = False
    source = ColumnDataSource({"xs": [], "ys": []}, name="studio-strokes")
    lines = fig.multi_line("xs", "ys", source=source, line_width=16, line_color="white", line_cap="round",
                           line_join="round")
    tool = FreehandDrawTool(renderers=[lines], num_objects=0)
    fig.add_tools(tool)
    fig.toolbar.active_drag = tool
    return fig, source


# ---------------------------------------------------------------- the page

def make_trainer(data=None):
    """(Trainer over the shipped MNIST subset, None, False); (None, reason, missing?) if it cannot be read."""
    try:
        return training.Trainer(training.load_data() if data is None else data), None, False
    except FileNotFoundError as e:
        return None, str(e), True
    except ValueError as e:
        return None, str(e), False


def create_page(lang="en", trainer=None, data=None, autorun=True):
    """The studio page. Pass `trainer` to keep a model across a rebuild (e.g. a language switch): call the old
    page's close() first (it stops its training callback); the new page takes a running run over.

    In the static site the MNIST subset arrives just after the page is ready: until it is there the page says it
    is loading and retries every DATA_RETRY_MS (page.retry() does one try). autorun=False leaves the periodic
    callbacks off (tests call page.tick() and page.retry() themselves)."""
    t = lambda key, **kw: studio_i18n.text(lang, key, **kw)
    page = types.SimpleNamespace(trainer=None, lang=lang, callback=None, waiting=None,
                                 layout=pn.Column(css_classes=["studio"], sizing_mode="stretch_width"))
    alert = pn.pane.Alert("", alert_type="info", css_classes=["studio-message"])

    def retry():
        """Try to load the data once; build the studio when it is there. Returns True once built."""
        nonlocal trainer
        if page.trainer is not None:
            return True
        if trainer is None:
            trainer, why, missing = make_trainer(data)
            if trainer is None:
                alert.object = t("loading_data") if missing else t("err_no_data", why=why)
                alert.alert_type = "info" if missing else "danger"
                page.layout.objects = [alert]
                if not missing and page.waiting is not None:
                    page.waiting.stop()                          # a damaged file will not mend itself
                    page.waiting = None
                return False
        if page.waiting is not None:
            page.waiting.stop()
            page.waiting = None
        build_studio(page, trainer, t, autorun)
        return True

    def close():
        if page.waiting is not None:
            page.waiting.stop()
            page.waiting = None

    page.retry, page.close = retry, close
    if not retry() and autorun and alert.alert_type == "info":
        page.waiting = pn.state.add_periodic_callback(retry, period=DATA_RETRY_MS)
    return page


def build_studio(page, trainer, t, autorun):
    """Fill page.layout with the studio over `trainer`, and page with the handles tests use."""
    page.trainer = trainer
    # shown_result starts as a marker no result can be, so the first show_confusion() sets what is visible
    page.drawing, page.last_refresh, page.shown_result, page.map_layers, page.alert = None, 0.0, (), None, None
    page.loaded_as = None
    cfg = trainer.config

    # ------------------------------------------------------------ widgets
    w = {
        "architecture": pn.widgets.TextAreaInput(label=t("arch_title"), value=cfg["architecture"], height=190,
                                                 width=400, css_classes=["studio-architecture"]),
        "apply": pn.widgets.Button(label=t("arch_apply"), color="primary", css_classes=["studio-apply"]),
        "lenet": pn.widgets.Button(label=t("arch_lenet"), css_classes=["studio-lenet"]),
        "add_kind": pn.widgets.Select(options=list(studio_arch.TEMPLATES), value="Conv2D", width=150,
                                      css_classes=["studio-add-kind"]),
        "add": pn.widgets.Button(label=t("arch_add"), css_classes=["studio-add"]),
        "loss": pn.widgets.Select(label=t("loss"), value=cfg["loss"], css_classes=["studio-loss"],
                                  options={t("loss_" + k): k for k in training.LOSSES}),
        "gamma": pn.widgets.FloatInput(label=t("gamma"), value=cfg["gamma"], step=0.5, start=0, width=100),
        "alpha": pn.widgets.FloatInput(label=t("alpha"), value=cfg["alpha"], step=0.05, width=170),
        "optimizer": pn.widgets.Select(label=t("optimizer"), value=cfg["optimizer"], css_classes=["studio-optimizer"],
                                       options={t("opt_" + k): k for k in training.OPTIMIZERS}),
        "learning_rate": pn.widgets.FloatInput(label=t("learning_rate"), value=cfg["learning_rate"], step=1e-4,
                                               format="0.[00000]", css_classes=["studio-lr"], width=150),
        "momentum": pn.widgets.FloatInput(label=t("momentum"), value=cfg["momentum"], step=0.05, width=100),
        "rho": pn.widgets.FloatInput(label=t("rho"), value=cfg["rho"], step=0.05, width=100),
        "beta_1": pn.widgets.FloatInput(label=t("beta_1"), value=cfg["beta_1"], step=0.01, width=100),
        "beta_2": pn.widgets.FloatInput(label=t("beta_2"), value=cfg["beta_2"], step=0.001, width=100),
        "batch_size": pn.widgets.IntInput(label=t("batch_size"), value=cfg["batch_size"], start=1, width=100,
                                          css_classes=["studio-batch-size"]),
        "epochs": pn.widgets.IntInput(label=t("epochs"), value=cfg["epochs"], start=1, width=100,
                                      css_classes=["studio-epochs"]),
        "train_size": pn.widgets.IntInput(label=t("train_size"), value=cfg["train_size"], start=10,
                                          end=len(trainer.data["y_train"]), step=100, width=120,
                                          css_classes=["studio-train-size"]),
        "dropout": pn.widgets.FloatSlider(label=t("dropout"), value=cfg["dropout"], start=0, end=0.9, step=0.05,
                                          width=200),
        "seed": pn.widgets.IntInput(label=t("seed"), value=cfg["seed"], start=0, width=100),
        "imbalanced": pn.widgets.Checkbox(label=t("imbalanced"), value=cfg["imbalanced"],
                                          css_classes=["studio-imbalanced"]),
        "start": pn.widgets.Button(label=t("start"), color="success", css_classes=["studio-start"], width=80),
        "pause": pn.widgets.Button(label=t("pause"), css_classes=["studio-pause"], width=80),
        "resume": pn.widgets.Button(label=t("resume"), css_classes=["studio-resume"], width=80),
        "stop": pn.widgets.Button(label=t("stop"), color="danger", css_classes=["studio-stop"], width=80),
        "reset": pn.widgets.Button(label=t("reset"), css_classes=["studio-reset"], width=120),
        "save": pn.widgets.FileDownload(label=t("save"), filename="studio_weights.npz",
                                        callback=lambda: io.BytesIO(trainer.save_bytes()),
                                        css_classes=["studio-save"], width=200),
        "load": pn.widgets.FileInput(accept=".npz", multiple=False, css_classes=["studio-load"], width=220),
        "source": pn.widgets.RadioButtonGroup(label=t("maps_source"), value="test", css_classes=["studio-source"],
                                              options={t("src_test"): "test", t("src_drawing"): "drawing"}),
        "index": pn.widgets.IntSlider(label=t("test_index"), value=0, start=0, end=len(trainer.y_test) - 1,
                                      width=250, css_classes=["studio-test-index"]),
        "clear": pn.widgets.Button(label=t("draw_clear"), css_classes=["studio-clear"], width=80),
    }
    message = pn.pane.Alert("", alert_type="info", visible=False, css_classes=["studio-message"])
    status = pn.pane.HTML("", css_classes=["studio-status"])
    progress = pn.indicators.Progress(value=0, max=1000, width=330, css_classes=["studio-progress"])
    table = pn.pane.HTML("", css_classes=["studio-layer-table"], stylesheets=[CONFUSION_CSS])
    confusion = pn.pane.HTML("", css_classes=["studio-confusion"], stylesheets=[CONFUSION_CSS])
    prediction = pn.pane.HTML(f"<i>{t('draw_empty')}</i>", css_classes=["studio-prediction"])
    filters_title = pn.pane.HTML("", css_classes=["studio-filters-title"])

    loss_fig, loss_train, loss_val = curve_plot(t("curve_loss"), t("curve_loss"), t, "studio-curve-loss")
    acc_fig, acc_train, acc_val = curve_plot(t("curve_acc"), t("curve_acc"), t, "studio-curve-accuracy")
    acc_fig.y_range = Range1d(0, 1)
    filters_fig, filters_src = tile_plot(np.zeros((5, 5)), "", "studio-filters", width=220)
    input_fig, input_src = tile_plot(np.zeros((32, 32)), "", "studio-input", width=MAP_PX)
    mis_fig, mis_src = tile_plot(np.zeros((28, 28)), "", "studio-misclassified", width=420)
    mis_labels = ColumnDataSource({"x": [], "y": [], "text": []}, name="studio-misclassified-labels")
    mis_fig.text("x", "y", "text", source=mis_labels, text_color="#ffcc00", text_font_size="9px",
                 text_baseline="top")
    canvas, strokes = drawing_canvas()
    drawn_fig, drawn_src = tile_plot(np.zeros((28, 28)), "28×28", "studio-drawn", width=110)
    probs_src = ColumnDataSource({"digit": [str(d) for d in range(10)], "p": [0.0] * 10},
                                 name="studio-probs-source")
    probs_fig = figure(title=t("probs_title"), x_range=[str(d) for d in range(10)], y_range=Range1d(0, 1),
                       width=260, height=180, tools="", toolbar_location=None, name="studio-probs",
                       css_classes=["studio-probs"])
    probs_fig.vbar(x="digit", top="p", source=probs_src, width=0.8, color="#1f77b4")
    mis_fig.visible = False                 # until a test evaluation has mistakes to show
    mis_pane = pn.pane.Bokeh(mis_fig, visible=False)
    maps_row = pn.GridBox(ncols=4, css_classes=["studio-feature-maps"])   # FlexBox needs nh3, not shipped
    page.maps = []          # (layer name, fig, source) per shown layer

    # ------------------------------------------------------------ showing state

    def show_message():
        msg = page.alert or trainer.message
        message.object = message_text(msg, t)
        message.alert_type = "danger" if msg and msg[0] == "error" else "info"
        message.visible = msg is not None

    def show_status():
        s = trainer.status
        status.object = status_text(trainer, t)
        progress.value = round(1000 * trainer.progress)
        w["start"].disabled = s in ("running", "paused")
        w["pause"].disabled = s != "running"
        w["resume"].disabled = s != "paused"
        w["stop"].disabled = s not in ("running", "paused")
        busy = s in ("running", "paused")
        for key in SETTINGS + ("architecture", "apply", "lenet", "add", "reset", "load"):
            w[key].disabled = busy
        opt, loss = w["optimizer"].value, w["loss"].value
        w["momentum"].visible = opt in ("momentum", "nesterov")
        w["rho"].visible = opt == "rmsprop"
        w["beta_1"].visible = w["beta_2"].visible = opt == "adam"
        w["gamma"].visible = w["alpha"].visible = loss == "focal"
        show_message()

    def show_curves():
        h = trainer.history
        loss_train.data = {"x": h["train"]["images"], "y": h["train"]["loss"]}
        loss_val.data = {"x": h["val"]["images"], "y": h["val"]["loss"]}
        acc_train.data = {"x": h["train"]["images"], "y": h["train"]["accuracy"]}
        acc_val.data = {"x": h["val"]["images"], "y": h["val"]["accuracy"]}

    def show_filters():
        first = trainer.first_conv_kernel()
        filters_fig.visible = first is not None
        if first is None:
            filters_title.object = f"<i>{t('no_conv')}</i>"
            return
        name, k = first
        filters_title.object = f"<b>{t('filters_title', name=name, n=k.shape[3], h=k.shape[0], w=k.shape[1])}</b>"
        tiles = np.moveaxis(k[:, :, 0, :], -1, 0)             # the filters' first input channel, (F, h, w)
        set_tiles(filters_fig, filters_src, visual.mosaic(tiles), 220)

    def current_input():
        """(x (1, 32, 32, 1), title) of what the feature maps show."""
        if w["source"].value == "drawing" and page.drawing is not None:
            return page.drawing["x"], t("input_title_drawing")
        i = w["index"].value
        return trainer.x_test[i:i + 1], t("input_title", label=int(trainer.y_test[i]))

    def ensure_map_plots():
        shown = [l for l in trainer.model.layers if l.kind in SHOWN_KINDS]
        names = [(l.name, l.output_shape) for l in shown]
        if names == page.map_layers:
            return
        page.map_layers = names
        page.maps = []
        for layer in shown:
            fig, src = tile_plot(np.zeros((4, 4)), t("map_title", name=layer.name,
                                                      shape="×".join(map(str, layer.output_shape))),
                                 "studio-feature-map", width=MAP_PX)
            page.maps.append((layer.name, fig, src))
        maps_row.objects = [pn.pane.Bokeh(input_fig)] + [pn.pane.Bokeh(f) for _, f, _ in page.maps]

    def show_maps():
        ensure_map_plots()
        x, title = current_input()
        _, acts = trainer.predict(x)
        input_fig.title.text = title
        set_tiles(input_fig, input_src, x[0, :, :, 0], MAP_PX)
        for name, fig, src in page.maps:
            set_tiles(fig, src, visual.mosaic(visual.channel_stack(acts[name][0])), MAP_PX)

    def show_confusion():
        res = trainer.test_result
        if res is page.shown_result:
            return
        page.shown_result = res
        mis_pane.visible = mis_fig.visible = res is not None and len(res["misclassified"]) > 0
        if res is None:
            confusion.object = f"<i>{t('confusion_empty')}</i>"
            return
        confusion.object = (f"<b>{t('confusion_title', n=len(trainer.y_test))}</b>"
                            + confusion_html(res["confusion"], t))
        idx = res["misclassified"][:MAX_MISCLASSIFIED]
        if len(idx):
            cols = 10
            set_tiles(mis_fig, mis_src, visual.mosaic(trainer.data["x_test"][idx], cols=cols, scale_each=False)
                      / 255.0, 420)
            origins = [visual.tile_origin(i, (28, 28), cols) for i in range(len(idx))]
            mis_labels.data = {"x": [c + 0.5 for _, c in origins], "y": [r + 0.5 for r, _ in origins],
                               "text": [f"{trainer.y_test[i]}→{res['pred'][i]}" for i in idx]}
            mis_fig.title.text = t("mis_title", n=len(idx), total=len(res["misclassified"]))

    def show_drawing():
        if page.drawing is None:
            prediction.object = f"<i>{t('draw_empty')}</i>"
            probs_src.data = {"digit": [str(d) for d in range(10)], "p": [0.0] * 10}
            return
        probs, _ = trainer.predict(page.drawing["x"])
        p = probs[0]
        page.drawing["probs"] = p
        digit = int(p.argmax())
        prediction.object = f"<b style='font-size: 1.4em'>{t('prediction', digit=digit, p=float(p[digit]))}</b>"
        probs_src.data = {"digit": [str(d) for d in range(10)], "p": [float(v) for v in p]}
        set_tiles(drawn_fig, drawn_src, page.drawing["image"] / 255.0, 110)

    def show_views():
        """The heavier views: filters, feature maps, confusion matrix, the drawing's prediction."""
        show_filters()
        show_maps()
        show_confusion()
        show_drawing()
        page.last_refresh = time.perf_counter()

    def refresh():
        table.object = layer_table_html(trainer.layer_table, t)
        show_status()
        show_curves()
        show_views()

    # ------------------------------------------------------------ training

    def start_ticking():
        if autorun and page.callback is None:
            page.callback = pn.state.add_periodic_callback(tick_and_yield, period=TICK_MS)

    def stop_ticking():
        if page.callback is not None:
            page.callback.stop()
            page.callback = None

    def chunk():
        """Batches per tick: about TICK_S of training at the speed measured so far (1 to start)."""
        ips = trainer.images_per_second
        return max(1, int(TICK_S * ips / trainer.config["batch_size"])) if ips else 1

    def tick():
        """One tick: a few batches, then the curves; the heavier views every REFRESH_S and at the end."""
        try:
            trainer.step(chunk())
        except Exception as e:        # a bug must not leave a silent "Training" with no callback behind it
            stop_ticking()
            if trainer.status == "running":
                trainer.pause()
            page.alert = ("error", "err_internal", {"why": f"{type(e).__name__}: {e}"})
            show_status()
            return
        show_curves()
        show_status()
        if trainer.status != "running":
            stop_ticking()
            show_views()
        elif time.perf_counter() - page.last_refresh > REFRESH_S:
            show_views()

    async def tick_and_yield():
        """What the periodic callback runs. A tick outlasts the period, and then Panel's repeat loop (Pyodide,
        asyncio) starts the next one without ever giving the event loop a turn: the worker would never read the
        page's messages, so Pause would wait for the end of the run. The sleep hands the loop a turn each tick."""
        tick()
        await asyncio.sleep(YIELD_S)

    def act(method):
        page.alert = None
        try:
            getattr(trainer, method)()
        except ValueError as e:
            page.alert = ("error", "err_settings", {"why": str(e)})
        if trainer.status == "running":
            start_ticking()
        else:
            stop_ticking()
        if method == "reset":
            refresh()
        else:
            show_status()
            show_curves()
            if trainer.status in ("paused", "stopped"):
                show_views()                        # the run's latest filters, maps and confusion matrix

    # ------------------------------------------------------------ settings and architecture

    def apply_settings(**settings):
        """Hand settings to the trainer; on refusal show why and put the widgets back to the trainer's values."""
        page.alert = None
        try:
            trainer.configure(**settings)
        except ValueError as e:
            page.alert = ("error", "err_settings", {"why": str(e)})
            for key in settings:
                if key in w and w[key].value != trainer.config[key]:
                    w[key].value = trainer.config[key]
            show_status()
            return False
        refresh()
        return True

    def on_setting(event):
        key = next(k for k in SETTINGS if w[k] is event.obj)
        if trainer.config[key] != event.new:
            apply_settings(**{key: event.new})

    def on_apply(_=None):
        apply_settings(architecture=w["architecture"].value)

    def on_lenet(_=None):
        w["architecture"].value = studio_arch.lenet5_text()
        on_apply()

    def on_add(_=None):
        lines = [line for line in w["architecture"].value.splitlines() if line.strip()]
        lines.insert(max(len(lines) - 1, 0), studio_arch.TEMPLATES[w["add_kind"].value])
        w["architecture"].value = "\n".join(lines)
        on_apply()

    def load_weights(filename, data):
        page.alert = None
        page.loaded_as = filename or "weights.npz"
        try:
            trainer.load_bytes(data, page.loaded_as)
        except ValueError as e:
            page.alert = ("error", "err_load", {"why": str(e)})
            show_status()
            return False
        sync_widgets()
        refresh()
        return True

    def on_upload_name(event):
        """The browser sends the file's bytes and its name as two changes, bytes first: the message written with
        the previous (or no) name is corrected when the name arrives."""
        old, new = page.loaded_as, event.new
        if not old or not new or old == new:
            return
        page.loaded_as = new
        if page.alert and page.alert[1] == "err_load":
            page.alert = ("error", "err_load", {"why": page.alert[2]["why"].replace(repr(old), repr(new))})
        elif trainer.message and trainer.message[1] == "msg_loaded":
            trainer.message = ("info", "msg_loaded", dict(trainer.message[2], name=new))
        show_message()

    def sync_widgets():
        """Widgets show the trainer's settings (after a load changed the architecture)."""
        for key in SETTINGS + ("architecture",):
            if w[key].value != trainer.config[key]:
                w[key].param.update(value=trainer.config[key])

    # ------------------------------------------------------------ drawing

    def draw(stroke_list):
        """What finishing a stroke does: [(xs, ys), ...] in canvas units -> prediction and feature maps."""
        page.alert = None
        if not stroke_list:
            page.drawing = None
        else:
            try:
                image = drawing.strokes_to_image(stroke_list)
            except ValueError as e:
                page.alert = ("error", "err_draw", {"why": str(e)})
                show_message()
                return False
            page.drawing = {"image": image, "x": datasets.pad_to_32(image[None])}
        show_drawing()
        if page.drawing is not None and w["source"].value != "drawing":
            w["source"].value = "drawing"                      # shows its feature maps
        else:
            show_maps()
        show_message()
        return True

    def on_strokes(attr, old, new):
        draw([(xs, ys) for xs, ys in zip(new.get("xs", []), new.get("ys", [])) if len(xs)])

    def on_clear(_=None):
        strokes.data = {"xs": [], "ys": []}                    # on_strokes clears the prediction

    # ------------------------------------------------------------ wiring
    for key in SETTINGS:
        w[key].param.watch(on_setting, "value")
    w["apply"].on_click(on_apply)
    w["lenet"].on_click(on_lenet)
    w["add"].on_click(on_add)
    for key in ("start", "pause", "resume", "stop", "reset"):
        w[key].on_click(lambda event, key=key: act(key))
    w["load"].param.watch(lambda event: load_weights(w["load"].filename, event.new) if event.new else None, "value")
    w["load"].param.watch(on_upload_name, "filename")
    w["source"].param.watch(lambda event: show_maps(), "value")
    w["index"].param.watch(lambda event: show_maps(), "value")
    w["clear"].on_click(on_clear)
    strokes.on_change("data", on_strokes)
    refresh()
    if trainer.status == "running":                 # a rebuilt page (language switch) takes the run over
        start_ticking()

    controls = pn.Column(
        w["architecture"], pn.Row(w["apply"], w["lenet"]), pn.Row(w["add_kind"], w["add"]), table,
        w["loss"], pn.Row(w["gamma"], w["alpha"]), w["optimizer"], w["learning_rate"],
        pn.Row(w["momentum"], w["rho"], w["beta_1"], w["beta_2"]),
        pn.Row(w["batch_size"], w["epochs"], w["train_size"]), pn.Row(w["seed"], w["dropout"]), w["imbalanced"],
        pn.pane.HTML(f"<small>{t('load')}</small>", margin=(5, 10, 0, 10)), w["load"], w["save"],
        width=420, css_classes=["studio-controls"])
    run_bar = pn.Column(pn.Row(w["start"], w["pause"], w["resume"], w["stop"], w["reset"]), progress, status, message)
    draw_box = pn.Column(pn.pane.HTML(f"<b>{t('draw_title')}</b><br><small>{t('draw_help')}</small>"),
                         pn.pane.Bokeh(canvas), pn.Row(w["clear"], pn.pane.Bokeh(drawn_fig)), prediction,
                         pn.pane.Bokeh(probs_fig), css_classes=["studio-draw"])
    learn_box = pn.Column(pn.pane.HTML(f"<b>{t('maps_title')}</b>"), pn.Row(w["source"], w["index"]),
                          maps_row, filters_title, pn.pane.Bokeh(filters_fig), css_classes=["studio-learn"])
    main = pn.Column(
        pn.pane.HTML(f"<p>{t('intro')}</p>"), run_bar,
        pn.Row(pn.pane.Bokeh(loss_fig), pn.pane.Bokeh(acc_fig)),
        pn.Row(draw_box, learn_box),
        pn.Row(confusion, mis_pane, css_classes=["studio-results"]))
    page.layout.objects = [pn.Row(controls, main)]
    page.widgets, page.message, page.status, page.table, page.confusion, page.prediction = \
        w, message, status, table, confusion, prediction
    page.sources = {"loss_train": loss_train, "loss_val": loss_val, "acc_train": acc_train, "acc_val": acc_val,
                    "filters": filters_src, "input": input_src, "misclassified": mis_src, "mis_labels": mis_labels,
                    "strokes": strokes, "drawn": drawn_src, "probs": probs_src}
    page.figures = {"loss": loss_fig, "accuracy": acc_fig, "filters": filters_fig, "canvas": canvas,
                    "misclassified": mis_fig, "probs": probs_fig}
    page.tick, page.refresh, page.draw, page.load_weights, page.act = tick, refresh, draw, load_weights, act
    page.apply_settings = apply_settings
    page.close = stop_ticking          # call before dropping the page for a rebuilt one over the same trainer


def create_app(lang=None):
    """The studio alone as a Panel layout (the static site's worker can serve it as its app)."""
    return create_page(lang or os.environ.get("CNN_PLAYGROUND_LANG", "en")).layout


if __name__.startswith("bokeh"):       # the page on its own: panel serve playground/studio.py
    create_app().servable(title="LeNet studio")
