"""LeNet training studio (LeNet 학습): train LeNet-5 on MNIST, watch it learn, draw a digit.

Storyboard, one view function each (it returns its panel and its refresh):
1. `architecture_view`: the student edits the architecture (Keras lines, LeNet-5 to start) and sees the layer
   table (output shape, weights, multiplications) update, or the reason a stack does not fit.
   `settings_view`: the loss, optimizer and hyperparameters, batch size, epochs, training-set size, dropout,
   seed, and an imbalanced MNIST.
2. `run_view`: start / pause / resume / stop / reset, progress and status; `message_view` says what went wrong.
   Training runs a few batches per tick of a periodic callback (the Pyodide worker stays responsive);
   `curves_view` draws the live loss and accuracy.
3. Watch it learn: `filters_view` (the first layer's filters), `maps_view` (a test image's, or the drawing's,
   feature maps at every layer), `results_view` (the confusion matrix and the misclassified test images).
4. `drawing_view`: a drawn digit is prepared like MNIST (core.drawing), padded to 32x32 and classified.
5. `weights_view`: save the weights (.npz) or load some (from the studio, core.train or the JAX scripts).

What the page does (configure, act, load, draw, tick) follows the views; `build_studio` lays them out at the
bottom. All numbers come from core via playground.training.Trainer; this module only shows them.
`create_page(lang)` returns a namespace whose `.layout` is the page (and handles tests call).
"""
import asyncio
import functools
import html
import io
import re
import time
import types

import numpy as np
import panel as pn
from bokeh.models import ColumnDataSource, FreehandDrawTool, Range1d
from bokeh.plotting import figure

from core import datasets, drawing, metrics
from . import export, i18n, studio_arch, training, urlstate, views, visual

TICK_MS = 50             # the periodic callback's period
TICK_S = 0.25            # training time per tick: short enough that Pause answers at once
YIELD_S = 0.01           # the event loop's turn after each tick (the page's clicks get in here)
REFRESH_S = 1.5          # how often the filters and feature maps are redrawn while training
DATA_RETRY_MS = 500      # how often the page looks for the MNIST subset while the site is still fetching it
MAX_WEIGHTS_BYTES = 32 * 2**20   # the page refuses a larger weights file before reading it (views.file_input)
MAX_MISCLASSIFIED = 40
MAP_PX = 150
CURVE_W, CURVE_H = 360, 220
SETTINGS = ("loss", "gamma", "alpha", "optimizer", "learning_rate", "momentum", "rho", "beta_1", "beta_2",
            "batch_size", "epochs", "train_size", "dropout", "seed", "imbalanced")
RUN_BUTTONS = ("start", "pause", "resume", "stop", "reset")
SHOWN_KINDS = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "Dense", "Activation")   # layers with maps to show
DIGITS = [str(d) for d in range(10)]
CODE_CSS = f"""
pre {{ font: 11px {views.MONO}; background: #f6f6f6; border: 1px solid #ddd; padding: 6px; overflow: auto;
      max-height: 420px; margin: 4px 0; }}
"""
ARCH_CSS = f"""
.arch-lines {{ font: 12px {views.MONO}; white-space: pre; overflow-x: auto; border: 1px solid #ddd; padding: 2px 0; }}
.arch-lines div {{ padding: 0 4px; }}
.arch-lines .n {{ display: inline-block; width: 2.2em; color: #888; }}
.arch-lines .bad {{ background: #fde2e1; border-left: 3px solid #d62728; }}
"""
CONFUSION_CSS = f"""
table.confusion {{ border-collapse: collapse; font: 11px {views.MONO}; }}
table.confusion td, table.confusion th {{ border: 1px solid #ddd; padding: 1px 4px; text-align: right;
                                         min-width: 24px; }}
table.confusion th {{ background: #f4f4f4; }}
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
    """cm[true, predicted] counts as a table with core's per-class recall; cells shaded by their share of the row
    (green right, red wrong)."""
    n = cm.shape[0]
    recall = np.nan_to_num(metrics.per_class_recall(cm))       # a digit with no test images reads 0%
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
        rows.append(f"<tr><th>{i}</th>{''.join(cells)}<td>{recall[i]:.0%}</td></tr>")
    return f"<table class='confusion'>{head}{''.join(rows)}</table>"


def marked_lines_html(text, line):
    """The architecture text, numbered, with line `line` (1-based) marked: where the message points."""
    rows = []
    for n, row in enumerate(str(text).splitlines()[:studio_arch.MAX_LINES], start=1):
        cls = " class='bad'" if n == line else ""
        rows.append(f"<div{cls}><span class='n'>{n}</span>{html.escape(row[:200]) or ' '}</div>")
    return f"<div class='arch-lines'>{''.join(rows)}</div>"


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
    views.fit_title(fig)
    return fig, source


def set_tiles(fig, source, array, width):
    h, w = array.shape
    if (fig.x_range.end, fig.y_range.start) != (w, h):
        fig.x_range.update(start=0, end=w)
        fig.y_range.update(start=h, end=0)
        fig.frame_width = width
        fig.frame_height = max(20, round(width * h / w))
        views.fit_title(fig)
    source.data = {"image": [array], "dw": [w], "dh": [h]}


def curve_plot(title, y_label, t, css):
    """A curve against images seen. Its ranges are set by show_curve (Range1d, never empty: BokehJS warns about
    an auto range over no data), its legend shows once there is something to label."""
    fig = figure(title=title, width=CURVE_W, height=CURVE_H, x_axis_label=t("x_images"), y_axis_label=y_label,
                 x_range=Range1d(0, 1), y_range=Range1d(0, 1),
                 tools="pan,wheel_zoom,reset", toolbar_location="right", name=css, css_classes=[css])
    train = ColumnDataSource({"x": [], "y": []}, name=css + "-train")
    val = ColumnDataSource({"x": [], "y": []}, name=css + "-val")
    fig.line("x", "y", source=train, color="#1f77b4", legend_label=t("legend_train"))
    fig.line("x", "y", source=val, color="#d62728", line_width=2, legend_label=t("legend_val"))
    fig.scatter("x", "y", source=val, color="#d62728", size=4)
    fig.legend.location = "top_right" if css.endswith("loss") else "bottom_right"
    fig.legend.visible = False
    return fig, train, val


def show_curve(fig, train, val, curve, y_top=None):
    """curve: {"train": (x, y), "val": (x, y)} -> the sources; the x range spans the images seen so far, the
    y range 0..y_top (None: a little above the highest point)."""
    (tx, ty), (vx, vy) = curve["train"], curve["val"]
    train.data, val.data = {"x": list(tx), "y": list(ty)}, {"x": list(vx), "y": list(vy)}
    xs, ys = list(tx) + list(vx), [y for y in list(ty) + list(vy) if np.isfinite(y)]
    fig.x_range.update(start=0, end=max(xs, default=0) or 1)
    fig.y_range.update(start=0, end=y_top or (1.05 * max(ys) if ys and max(ys) > 0 else 1))
    fig.legend.visible = bool(xs)


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


def shown_when(widget, *values):
    """A reference for a widget's `visible`: True while `widget` holds one of `values`."""
    return pn.bind(lambda value: value in values, widget)


def probs_plot(t):
    """A bar per digit: the class probabilities of the drawing."""
    source = ColumnDataSource({"digit": DIGITS, "p": [0.0] * 10}, name="studio-probs-source")
    fig = figure(title=t("probs_title"), x_range=DIGITS, y_range=Range1d(0, 1), width=260, height=180, tools="",
                 toolbar_location=None, name="studio-probs", css_classes=["studio-probs"])
    fig.vbar(x="digit", top="p", source=source, width=0.8, color="#1f77b4")
    return fig, source


# ---------------------------------------------------------------- views: each returns its panel and its refresh
# A view is a namespace: its panel; refresh() to show the trainer's current state, sync() to show its settings;
# widgets {page key: widget}; the sources and figures tests read; locked, the widgets a run in progress disables.
# `page` holds the trainer and what the views share (page.alert, page.drawing).

def architecture_view(page, t, configure):
    """The architecture as Keras lines with Apply / Back to LeNet-5 / Add a layer, and the layer table."""
    cfg = page.trainer.config
    w = {
        "architecture": pn.widgets.TextAreaInput(label=t("arch_title"), value=cfg["architecture"], height=190,
                                                 width=400, css_classes=["studio-architecture"]),
        "apply": pn.widgets.Button(label=t("arch_apply"), color="primary", css_classes=["studio-apply"]),
        "lenet": pn.widgets.Button(label=t("arch_lenet"), css_classes=["studio-lenet"]),
        "add_kind": pn.widgets.Select(options=list(studio_arch.TEMPLATES), value="Conv2D", width=150,
                                      css_classes=["studio-add-kind"]),
        "add": pn.widgets.Button(label=t("arch_add"), css_classes=["studio-add"]),
    }
    table = pn.pane.HTML("", css_classes=["studio-layer-table"], stylesheets=[CONFUSION_CSS])
    marked = pn.pane.HTML("", css_classes=["studio-arch-error"], stylesheets=[ARCH_CSS], width=400, visible=False)

    def apply(_=None):
        configure(architecture=w["architecture"].value)

    def mark(line):
        """After a refused architecture: the student's text stays in the editor, and this listing marks the
        line the message is about (line None: hide it)."""
        marked.visible = line is not None
        if line is not None:
            marked.object = marked_lines_html(w["architecture"].value, line)

    def back_to_lenet(_=None):
        w["architecture"].value = studio_arch.lenet5_text()
        apply()

    def add_layer(_=None):
        lines = [line for line in w["architecture"].value.splitlines() if line.strip()]
        lines.insert(max(len(lines) - 1, 0), studio_arch.TEMPLATES[w["add_kind"].value])
        w["architecture"].value = "\n".join(lines)
        apply()

    def refresh():
        table.object = layer_table_html(page.trainer.layer_table, t)

    def sync():
        """Show the trainer's architecture (a loaded file brings its own); typed, unapplied text stays otherwise."""
        if w["architecture"].value != page.trainer.config["architecture"]:
            w["architecture"].param.update(value=page.trainer.config["architecture"])

    w["apply"].on_click(apply)
    w["lenet"].on_click(back_to_lenet)
    w["add"].on_click(add_layer)
    panel = pn.Column(w["architecture"], marked, pn.Row(w["apply"], w["lenet"]), pn.Row(w["add_kind"], w["add"]),
                      table)
    return types.SimpleNamespace(panel=panel, refresh=refresh, sync=sync, mark=mark, widgets=w, table=table,
                                 marked=marked, locked=[w[k] for k in ("architecture", "apply", "lenet", "add")])


def settings_view(page, t, configure):
    """Loss, optimizer and hyperparameters, batch size, epochs, training images, dropout, seed, imbalance: each
    change goes to the trainer at once. The loss's and the optimizer's own fields show only when they apply.
    The number fields have no start/end: the browser would clamp a typed 0 or 10^9 silently; the trainer's
    check says what the range is instead, and the field goes back."""
    cfg = page.trainer.config
    loss = pn.widgets.Select(label=t("loss"), value=cfg["loss"], css_classes=["studio-loss"],
                             options={t("loss_" + k): k for k in training.LOSSES})
    optimizer = pn.widgets.Select(label=t("optimizer"), value=cfg["optimizer"], css_classes=["studio-optimizer"],
                                  options={t("opt_" + k): k for k in training.OPTIMIZERS})
    w = {
        "loss": loss,
        "gamma": pn.widgets.FloatInput(label=t("gamma"), value=cfg["gamma"], step=0.5, width=100,
                                       visible=shown_when(loss, "focal")),
        "alpha": pn.widgets.FloatInput(label=t("alpha"), value=cfg["alpha"], step=0.05, width=170,
                                       visible=shown_when(loss, "focal")),
        "optimizer": optimizer,
        "learning_rate": pn.widgets.FloatInput(label=t("learning_rate"), value=cfg["learning_rate"], step=1e-4,
                                               format="0.[00000]", css_classes=["studio-lr"], width=150),
        "momentum": pn.widgets.FloatInput(label=t("momentum"), value=cfg["momentum"], step=0.05, width=100,
                                          visible=shown_when(optimizer, "momentum", "nesterov")),
        "rho": pn.widgets.FloatInput(label=t("rho"), value=cfg["rho"], step=0.05, width=100,
                                     visible=shown_when(optimizer, "rmsprop")),
        "beta_1": pn.widgets.FloatInput(label=t("beta_1"), value=cfg["beta_1"], step=0.01, width=100,
                                        visible=shown_when(optimizer, "adam")),
        "beta_2": pn.widgets.FloatInput(label=t("beta_2"), value=cfg["beta_2"], step=0.001, width=100,
                                        visible=shown_when(optimizer, "adam")),
        "batch_size": pn.widgets.IntInput(label=t("batch_size"), value=cfg["batch_size"], width=100,
                                          css_classes=["studio-batch-size"]),
        "epochs": pn.widgets.IntInput(label=t("epochs"), value=cfg["epochs"], width=100,
                                      css_classes=["studio-epochs"]),
        "train_size": pn.widgets.IntInput(label=t("train_size"), value=cfg["train_size"], step=100, width=120,
                                          css_classes=["studio-train-size"]),
        "dropout": pn.widgets.FloatSlider(label=t("dropout"), value=cfg["dropout"], start=0, end=0.9, step=0.05,
                                          width=200),
        "seed": pn.widgets.IntInput(label=t("seed"), value=cfg["seed"], width=100),
        "imbalanced": pn.widgets.Checkbox(label=t("imbalanced"), value=cfg["imbalanced"],
                                          css_classes=["studio-imbalanced"]),
    }

    def changed(key, value):
        if page.trainer.config[key] != value:            # not when configure put a refused value back
            configure(**{key: value})

    def sync():
        """Show the trainer's settings (a loaded file brings its own)."""
        for key in SETTINGS:
            if w[key].value != page.trainer.config[key]:
                w[key].param.update(value=page.trainer.config[key])

    for key in SETTINGS:
        pn.bind(changed, key, w[key], watch=True)
    panel = pn.Column(
        w["loss"], pn.Row(w["gamma"], w["alpha"]), w["optimizer"], w["learning_rate"],
        pn.Row(w["momentum"], w["rho"], w["beta_1"], w["beta_2"]),
        pn.Row(w["batch_size"], w["epochs"], w["train_size"]), pn.Row(w["seed"], w["dropout"]), w["imbalanced"])
    return types.SimpleNamespace(panel=panel, sync=sync, widgets=w, locked=list(w.values()))


def weights_view(page, t, load, rename, refused):
    """Load a weights file (load(filename, bytes); rename(filename) when its name arrives after its bytes;
    refused(file) when the page refused one too large to read), save the current weights, or export them with
    a Python script that rebuilds the model (a zip, see export.studio_bundle)."""
    w = {
        "load": views.file_input(".npz", MAX_WEIGHTS_BYTES, css_classes=["studio-load"], width=220),
        "save": pn.widgets.FileDownload(label=t("save"), filename=export.WEIGHTS_NAME,
                                        callback=lambda: io.BytesIO(page.trainer.save_bytes()),
                                        css_classes=["studio-save"], width=200),
        "export": pn.widgets.FileDownload(label=t("export_zip"), filename="studio_model.zip",
                                          callback=lambda: io.BytesIO(bundle(page.trainer)),
                                          css_classes=["studio-export"], width=200),
    }
    w["load"].param.watch(lambda event: load(w["load"].filename, event.new) if event.new else None, "value")
    w["load"].param.watch(lambda event: rename(event.new), "filename")
    w["load"].param.watch(lambda event: refused(views.refused_file(w["load"])), "tags")
    panel = pn.Column(pn.pane.HTML(f"<small>{t('load')}</small>", margin=(5, 10, 0, 10)), w["load"], w["save"],
                      w["export"])
    return types.SimpleNamespace(panel=panel, widgets=w, locked=[w["load"]])


def bundle(trainer):
    """The export zip for the trainer's current model and weights, with the test accuracy they reach now."""
    result = trainer.evaluate_test()
    return export.studio_bundle(trainer.model, trainer.save_bytes(), trainer.config, result["accuracy"],
                                len(trainer.y_test))


def code_view(page, t):
    """The model as code, beside each other: the core script the export holds and the same model in Keras."""
    core = pn.pane.HTML("", css_classes=["studio-code-core"], stylesheets=[CODE_CSS], sizing_mode="stretch_width")
    keras = pn.pane.HTML("", css_classes=["studio-code-keras"], stylesheets=[CODE_CSS],
                         sizing_mode="stretch_width")
    shown = [None]

    def refresh():
        trainer = page.trainer
        key = (id(trainer.model), tuple(sorted((k, repr(v)) for k, v in trainer.config.items())))
        if key == shown[0]:
            return
        shown[0] = key
        for pane, title, code in ((core, "code_core", export.core_script(trainer.model, trainer.config)),
                                  (keras, "code_keras", export.keras_code(trainer.model, trainer.config))):
            pane.object = f"<b>{t(title)}</b><pre>{html.escape(code)}</pre>"

    card = pn.Card(pn.Row(core, keras, sizing_mode="stretch_width"), title=t("code_title"), collapsed=True,
                   css_classes=["studio-code"], sizing_mode="stretch_width")
    return types.SimpleNamespace(panel=card, refresh=refresh, core=core, keras=keras)


def run_view(page, t, act):
    """Start / Pause / Resume / Stop / Reset (act(name)), the progress bar and the status line."""
    w = {
        "start": pn.widgets.Button(label=t("start"), color="success", css_classes=["studio-start"], width=80),
        "pause": pn.widgets.Button(label=t("pause"), css_classes=["studio-pause"], width=80),
        "resume": pn.widgets.Button(label=t("resume"), css_classes=["studio-resume"], width=80),
        "stop": pn.widgets.Button(label=t("stop"), color="danger", css_classes=["studio-stop"], width=80),
        "reset": pn.widgets.Button(label=t("reset"), css_classes=["studio-reset"], width=120),
    }
    progress = pn.indicators.Progress(value=0, max=1000, width=330, css_classes=["studio-progress"])
    status = pn.pane.HTML("", css_classes=["studio-status"])

    def refresh():
        s = page.trainer.status
        status.object = status_text(page.trainer, t)
        progress.value = round(1000 * page.trainer.progress)
        w["start"].disabled = s in ("running", "paused")
        w["pause"].disabled = s != "running"
        w["resume"].disabled = s != "paused"
        w["stop"].disabled = s not in ("running", "paused")

    for key in RUN_BUTTONS:
        w[key].on_click(lambda event, key=key: act(key))
    panel = pn.Column(pn.Row(*(w[key] for key in RUN_BUTTONS)), progress, status)
    return types.SimpleNamespace(panel=panel, refresh=refresh, widgets=w, status=status, locked=[w["reset"]])


def message_view(page, t):
    """The page's own alert (a refused setting, a bad file) or else the trainer's message (done, diverged...)."""
    alert = pn.pane.Alert("", alert_type="info", visible=False, css_classes=["studio-message"])

    def refresh():
        msg = page.alert or page.trainer.message
        alert.object = message_text(msg, t)
        alert.alert_type = "danger" if msg and msg[0] == "error" else "info"
        alert.visible = msg is not None

    return types.SimpleNamespace(panel=alert, refresh=refresh)


def curves_view(page, t):
    """Loss and accuracy against images seen: training batches and test checks."""
    loss_fig, loss_train, loss_val = curve_plot(t("curve_loss"), t("curve_loss"), t, "studio-curve-loss")
    acc_fig, acc_train, acc_val = curve_plot(t("curve_acc"), t("curve_acc"), t, "studio-curve-accuracy")

    def refresh():
        h = page.trainer.history
        show_curve(loss_fig, loss_train, loss_val, {part: (h[part]["images"], h[part]["loss"])
                                                    for part in ("train", "val")})
        show_curve(acc_fig, acc_train, acc_val, {part: (h[part]["images"], h[part]["accuracy"])
                                                 for part in ("train", "val")}, y_top=1)

    return types.SimpleNamespace(
        panel=pn.Row(pn.pane.Bokeh(loss_fig), pn.pane.Bokeh(acc_fig)), refresh=refresh,
        sources={"loss_train": loss_train, "loss_val": loss_val, "acc_train": acc_train, "acc_val": acc_val},
        figures={"loss": loss_fig, "accuracy": acc_fig})


def filters_view(page, t):
    """The first convolution layer's filters (first input channel), each tile scaled on its own."""
    title = pn.pane.HTML("", css_classes=["studio-filters-title"])
    fig, source = tile_plot(np.zeros((5, 5)), "", "studio-filters", width=220)

    def refresh():
        first = page.trainer.first_conv_kernel()
        fig.visible = first is not None
        if first is None:
            title.object = f"<i>{t('no_conv')}</i>"
            return
        name, k = first
        title.object = f"<b>{t('filters_title', name=name, n=k.shape[3], h=k.shape[0], w=k.shape[1])}</b>"
        set_tiles(fig, source, visual.mosaic(np.moveaxis(k[:, :, 0, :], -1, 0)), 220)    # (F, h, w) tiles

    return types.SimpleNamespace(panel=pn.Column(title, pn.pane.Bokeh(fig)), refresh=refresh,
                                 sources={"filters": source}, figures={"filters": fig})


def maps_view(page, t):
    """One input (a test image, or the drawing) and its feature maps at every layer that has maps to show."""
    trainer = page.trainer
    w = {
        "source": pn.widgets.RadioButtonGroup(label=t("maps_source"), value="test", css_classes=["studio-source"],
                                              options={t("src_test"): "test", t("src_drawing"): "drawing"}),
        "index": pn.widgets.IntSlider(label=t("test_index"), value=0, start=0, end=len(trainer.y_test) - 1,
                                      width=250, css_classes=["studio-test-index"]),
    }
    input_fig, input_src = tile_plot(np.zeros((32, 32)), "", "studio-input", width=MAP_PX)
    grid = pn.GridBox(ncols=4, css_classes=["studio-feature-maps"])   # FlexBox needs nh3, not shipped
    maps, layers = [], []          # (layer name, fig, source) per shown layer; their (name, shape), to spot a change

    def ensure_plots():
        shown = [layer for layer in trainer.model.layers if layer.kind in SHOWN_KINDS]
        if [(layer.name, layer.output_shape) for layer in shown] == layers:
            return
        layers[:] = [(layer.name, layer.output_shape) for layer in shown]
        maps.clear()
        for layer in shown:
            title = t("map_title", name=layer.name, shape="×".join(map(str, layer.output_shape)))
            maps.append((layer.name, *tile_plot(np.zeros((4, 4)), title, "studio-feature-map", width=MAP_PX)))
        grid.objects = [pn.pane.Bokeh(input_fig)] + [pn.pane.Bokeh(fig) for _, fig, _ in maps]

    def show(source, index):
        ensure_plots()
        if source == "drawing" and page.drawing is not None:
            x, title = page.drawing["x"], t("input_title_drawing")
        else:
            x, title = trainer.x_test[index:index + 1], t("input_title", label=int(trainer.y_test[index]))
        _, acts = trainer.predict(x)
        input_fig.title.text = title
        set_tiles(input_fig, input_src, x[0, :, :, 0], MAP_PX)
        for name, fig, src in maps:
            set_tiles(fig, src, visual.mosaic(visual.channel_stack(acts[name][0])), MAP_PX)

    pn.bind(show, w["source"], w["index"], watch=True)
    panel = pn.Column(pn.pane.HTML(f"<b>{t('maps_title')}</b>"), pn.Row(w["source"], w["index"]), grid)
    return types.SimpleNamespace(panel=panel, refresh=lambda: show(w["source"].value, w["index"].value),
                                 widgets=w, maps=maps, sources={"input": input_src})


def results_view(page, t):
    """The confusion matrix on the test set and the misclassified test digits (true -> predicted)."""
    trainer = page.trainer
    confusion = pn.pane.HTML("", css_classes=["studio-confusion"], stylesheets=[CONFUSION_CSS])
    fig, source = tile_plot(np.zeros((28, 28)), "", "studio-misclassified", width=420)
    labels = ColumnDataSource({"x": [], "y": [], "text": []}, name="studio-misclassified-labels")
    fig.text("x", "y", "text", source=labels, text_color="#ffcc00", text_font_size="9px", text_baseline="top")
    fig.visible = False                 # until a test evaluation has mistakes to show
    title = pn.pane.HTML("", css_classes=["studio-misclassified-title"], width=420)   # HTML wraps; a canvas
    pane = pn.Column(title, pn.pane.Bokeh(fig), visible=False)                        # title is cut off
    shown = ()                          # the result on screen; () is no result, so the first refresh draws

    def refresh():
        nonlocal shown
        res = trainer.test_result
        if res is shown:
            return
        shown = res
        pane.visible = fig.visible = res is not None and len(res["misclassified"]) > 0
        if res is None:
            confusion.object = f"<i>{t('confusion_empty')}</i>"
            return
        confusion.object = (f"<b>{t('confusion_title', n=len(trainer.y_test))}</b>"
                            + confusion_html(res["confusion"], t))
        idx = res["misclassified"][:MAX_MISCLASSIFIED]
        if len(idx):
            cols = 10
            set_tiles(fig, source, visual.mosaic(trainer.data["x_test"][idx], cols=cols, scale_each=False)
                      / 255.0, 420)
            origins = [visual.tile_origin(i, (28, 28), cols) for i in range(len(idx))]
            labels.data = {"x": [c + 0.5 for _, c in origins], "y": [r + 0.5 for r, _ in origins],
                           "text": [f"{trainer.y_test[i]}→{res['pred'][i]}" for i in idx]}
            title.object = f"<b>{t('mis_title', n=len(idx), total=len(res['misclassified']))}</b>"

    return types.SimpleNamespace(
        panel=pn.Row(confusion, pane, css_classes=["studio-results"]), refresh=refresh, confusion=confusion,
        sources={"misclassified": source, "mis_labels": labels}, figures={"misclassified": fig}, title=title)


def drawing_view(page, t, draw):
    """The canvas (draw(strokes) when a stroke ends or it is cleared), the digit as MNIST-like 28x28 pixels, the
    prediction and the class probabilities."""
    canvas, strokes = drawing_canvas()
    w = {"clear": pn.widgets.Button(label=t("draw_clear"), css_classes=["studio-clear"], width=80)}
    drawn_fig, drawn_src = tile_plot(np.zeros((28, 28)), "28×28", "studio-drawn", width=110)
    prediction = pn.pane.HTML(f"<i>{t('draw_empty')}</i>", css_classes=["studio-prediction"])
    probs_fig, probs_src = probs_plot(t)

    def refresh():
        if page.drawing is None:
            prediction.object = f"<i>{t('draw_empty')}</i>"
            probs_src.data = {"digit": DIGITS, "p": [0.0] * 10}
            return
        probs, _ = page.trainer.predict(page.drawing["x"])
        p = probs[0]
        digit = int(p.argmax())
        prediction.object = f"<b style='font-size: 1.4em'>{t('prediction', digit=digit, p=float(p[digit]))}</b>"
        probs_src.data = {"digit": DIGITS, "p": [float(v) for v in p]}
        set_tiles(drawn_fig, drawn_src, page.drawing["image"] / 255.0, 110)

    def clear(_=None):
        strokes.data = {"xs": [], "ys": []}                   # the strokes' change clears the prediction

    strokes.on_change("data", lambda attr, old, new: draw(
        [(xs, ys) for xs, ys in zip(new.get("xs", []), new.get("ys", [])) if len(xs)]))
    w["clear"].on_click(clear)
    panel = pn.Column(pn.pane.HTML(f"<b>{t('draw_title')}</b><br><small>{t('draw_help')}</small>"),
                      pn.pane.Bokeh(canvas), pn.Row(w["clear"], pn.pane.Bokeh(drawn_fig)), prediction,
                      pn.pane.Bokeh(probs_fig), css_classes=["studio-draw"])
    return types.SimpleNamespace(
        panel=panel, refresh=refresh, widgets=w, prediction=prediction,
        sources={"strokes": strokes, "drawn": drawn_src, "probs": probs_src},
        figures={"canvas": canvas, "probs": probs_fig})


# ---------------------------------------------------------------- what the page does

def show_status(page):
    """Status, buttons and message; settings are locked while a run is in progress (pause or stop first)."""
    page.views.run.refresh()
    busy = page.trainer.status in ("running", "paused")
    for widget in page.locked:
        widget.disabled = busy
    page.views.message.refresh()


def show_views(page):
    """The heavier views: filters, feature maps, confusion matrix, the drawing's prediction."""
    for view in (page.views.filters, page.views.maps, page.views.results, page.views.drawing):
        view.refresh()
    page.last_refresh = time.perf_counter()


def refresh(page):
    page.views.architecture.refresh()
    page.views.code.refresh()
    show_status(page)
    page.views.curves.refresh()
    show_views(page)


def configure(page, **settings):
    """Hand settings to the trainer; on refusal show why and put the widgets back to the trainer's values."""
    page.alert = None
    try:
        page.trainer.configure(**settings)
    except (ValueError, OverflowError) as e:        # OverflowError: an int too large for a float check
        page.alert = ("error", "err_config", {"why": str(e)})
        for key in settings:
            if key == "architecture":               # the student's text stays; the listing marks the line
                continue
            if key in page.widgets and page.widgets[key].value != page.trainer.config[key]:
                page.widgets[key].value = page.trainer.config[key]
        if "architecture" in settings:
            page.views.architecture.mark(getattr(e, "line", None) or arch_line(e))
        show_status(page)
        return False
    if "architecture" in settings:
        page.views.architecture.mark(None)
    refresh(page)
    return True


def arch_line(error):
    """The line an architecture error is about when the error does not carry it (its text starts 'line N')."""
    m = re.match(r"line (\d+)\b", str(error))
    return int(m.group(1)) if m else None


def act(page, method):
    """A run button: the trainer's start/pause/resume/stop/reset, then the ticking follows its status."""
    page.alert = None
    try:
        getattr(page.trainer, method)()
    except ValueError as e:
        page.alert = ("error", "err_config", {"why": str(e)})
    if page.trainer.status == "running":
        start_ticking(page)
    else:
        stop_ticking(page)
    if method == "reset":
        refresh(page)
        return
    show_status(page)
    page.views.curves.refresh()
    if page.trainer.status in ("paused", "stopped"):
        show_views(page)                        # the run's latest filters, maps and confusion matrix


def load_weights(page, filename, data):
    """A weights file's bytes: the trainer loads them (its settings and architecture follow) or says why not."""
    page.alert = None
    page.loaded_as = filename or "weights.npz"
    try:
        page.trainer.load_bytes(data, page.loaded_as)
    except ValueError as e:
        page.alert = ("error", "err_load", {"why": str(e)})
        show_status(page)
        return False
    page.views.architecture.sync()
    page.views.settings.sync()
    refresh(page)
    return True


def refused_upload(page, refused):
    """The page refused a weights file too large to read: say so, keep the model."""
    if refused is not None:
        page.alert = ("error", "err_load", {"why": f"{refused['name']!r} is {refused['bytes'] / 2**20:.1f} MB; the "
                                                  f"studio reads weights files up to {MAX_WEIGHTS_BYTES // 2**20} MB"})
        show_status(page)


def rename_upload(page, filename):
    """The browser sends the file's bytes and its name as two changes, bytes first: the message written with
    the previous (or no) name is corrected when the name arrives."""
    old = page.loaded_as
    if not old or not filename or old == filename:
        return
    page.loaded_as = filename
    if page.alert and page.alert[1] == "err_load":
        page.alert = ("error", "err_load", {"why": page.alert[2]["why"].replace(repr(old), repr(filename))})
    elif page.trainer.message and page.trainer.message[1] == "msg_loaded":
        page.trainer.message = ("info", "msg_loaded", dict(page.trainer.message[2], name=filename))
    page.views.message.refresh()


def draw(page, stroke_list):
    """What finishing a stroke does: [(xs, ys), ...] in canvas units -> prediction and feature maps."""
    page.alert = None
    if not stroke_list:
        page.drawing = None
    else:
        try:
            image = drawing.strokes_to_image(stroke_list)
        except ValueError as e:
            page.alert = ("error", "err_draw", {"why": str(e)})
            page.views.message.refresh()
            return False
        page.drawing = {"image": image, "x": datasets.pad_to_32(image[None])}
    page.views.drawing.refresh()
    source = page.views.maps.widgets["source"]
    if page.drawing is not None and source.value != "drawing":
        source.value = "drawing"                               # shows its feature maps
    else:
        page.views.maps.refresh()
    page.views.message.refresh()
    return True


# ---------------------------------------------------------------- training: a few batches per tick

def batches_per_tick(trainer):
    """About TICK_S of training at the speed measured so far (1 to start)."""
    ips = trainer.images_per_second
    return max(1, int(TICK_S * ips / trainer.config["batch_size"])) if ips else 1


def tick(page):
    """One tick: a few batches, then the curves; the heavier views every REFRESH_S and at the end."""
    trainer = page.trainer
    try:
        trainer.step(batches_per_tick(trainer))
    except Exception as e:        # a bug must not leave a silent "Training" with no callback behind it
        stop_ticking(page)
        if trainer.status == "running":
            trainer.pause()
        page.alert = ("error", "err_internal", {"why": f"{type(e).__name__}: {e}"})
        show_status(page)
        return
    page.views.curves.refresh()
    show_status(page)
    if trainer.status != "running":
        stop_ticking(page)
        show_views(page)
    elif time.perf_counter() - page.last_refresh > REFRESH_S:
        show_views(page)


def start_ticking(page):
    async def tick_and_yield():
        """What the periodic callback runs. A tick outlasts the period, and then Panel's repeat loop (Pyodide,
        asyncio) starts the next one without ever giving the event loop a turn: the worker would never read
        the page's messages, so Pause would wait for the end of the run. The sleep hands the loop a turn."""
        tick(page)
        await asyncio.sleep(YIELD_S)

    if page.autorun and page.callback is None:
        page.callback = pn.state.add_periodic_callback(tick_and_yield, period=TICK_MS)


def stop_ticking(page):
    if page.callback is not None:
        page.callback.stop()
        page.callback = None


# ---------------------------------------------------------------- the page

def make_trainer(data=None):
    """(Trainer over the shipped MNIST subset, None, False); (None, reason, missing?) if it cannot be read."""
    try:
        return training.Trainer(training.load_data() if data is None else data), None, False
    except FileNotFoundError as e:
        return None, str(e), True
    except ValueError as e:
        return None, str(e), False


def app_notice(lang, notice):
    """One (i18n key, values) notice as text in `lang`."""
    key, values = notice
    return i18n.text(lang, key, **values)


def stop_waiting(page):
    if page.waiting is not None:
        page.waiting.stop()
        page.waiting = None


def create_page(lang="en", trainer=None, data=None, autorun=True, on_trainer=None):
    """The studio page. Pass `trainer` to keep a model across a rebuild (e.g. a language switch): call the old
    page's close() first (it stops its training callback); the new page takes a running run over.
    on_trainer(trainer) is called once the page has its trainer (the data may arrive after the page is built).

    In the static site the MNIST subset arrives just after the page is ready: until it is there the page says it
    is loading and retries every DATA_RETRY_MS (page.retry() does one try). autorun=False leaves the periodic
    callbacks off (tests call page.tick() and page.retry() themselves)."""
    t = functools.partial(i18n.text, lang)
    page = types.SimpleNamespace(trainer=None, lang=lang, autorun=autorun, callback=None, waiting=None,
                                 pending=None, layout=pn.Column(css_classes=["studio"], sizing_mode="stretch_width"))
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
                if not missing:
                    stop_waiting(page)                  # a damaged file will not mend itself
                return False
        stop_waiting(page)
        build_studio(page, trainer, t)
        if on_trainer is not None:
            on_trainer(trainer)
        if page.pending is not None:                    # a link's settings, asked for while the data loaded
            notices = restore(page, page.pending)
            page.pending = None
            if notices:
                lines = " ".join(app_notice(lang, n) for n in notices)
                page.alert = ("info", "url_studio_notices", {"notices": lines})
                show_status(page)
        return True

    page.retry, page.close = retry, functools.partial(stop_waiting, page)
    page.url_state, page.restore = functools.partial(url_state, page), functools.partial(restore, page)
    if not retry() and autorun and alert.alert_type == "info":
        page.waiting = pn.state.add_periodic_callback(retry, period=DATA_RETRY_MS)
    return page


# ---------------------------------------------------------------- settings in the page's URL

URL_SETTINGS = ("architecture",) + SETTINGS          # the weights never travel in a link


def url_state(page):
    """The studio's settings as small JSON-able data: the architecture text and the hyperparameters (not the
    weights). While the data is still loading, what a link asked for (applied once the studio is built)."""
    if page.trainer is None:
        return dict(page.pending) if isinstance(page.pending, dict) else {}
    return {key: page.trainer.config[key] for key in URL_SETTINGS}


def restore(page, data):
    """Apply a link's settings (data: a url_state); missing ones take the defaults, refused ones too, each with
    a notice. Returns notices, (i18n key, values) pairs, for the page to show; never raises. Before the data
    has arrived the settings wait, and their notices go to the studio's message box once applied."""
    if page.trainer is None:
        page.pending = data
        return []
    notices = apply_settings(page.trainer, data)
    page.views.architecture.sync()
    page.views.settings.sync()
    page.views.architecture.mark(None)
    page.alert = None
    refresh(page)
    return notices


def apply_settings(trainer, data):
    """Configure `trainer` from a link's settings over the defaults, one setting at a time (a refused one keeps
    its default): [(i18n key, values)] for what was not used."""
    notices = [] if isinstance(data, dict) else [("url_bad_settings", {"why": "expected a JSON object"})]
    data = data if isinstance(data, dict) else {}
    notices += [("url_unknown_key", {"name": urlstate.shown(k)}) for k in data if k not in URL_SETTINGS]
    defaults = {key: training.DEFAULTS[key] for key in URL_SETTINGS}
    defaults["train_size"] = min(defaults["train_size"], len(trainer.data["y_train"]))
    try:
        trainer.configure(**{k: v for k, v in defaults.items() if trainer.config[k] != v})
    except ValueError as e:                                 # a run in progress: nothing can change now
        return notices + [("url_field_refused", {"name": "…", "why": urlstate.shown(str(e), 200)})]
    for key in URL_SETTINGS:
        if key not in data or data[key] == trainer.config[key]:
            continue
        value = data[key]
        try:
            if key == "imbalanced":
                value = urlstate.flag(key, value)
            elif key == "architecture" and not isinstance(value, str):
                raise ValueError(f"the architecture must be text, got {type(value).__name__}")
            trainer.configure(**{key: value})
        except urlstate.Refused as e:
            notices.append(e.notice)
        except OverflowError:                                   # an int beyond float, e.g. 10**400
            notices.append(("url_field_refused", {"name": key, "why": f"{key} is far too large a number"}))
        except (ValueError, TypeError) as e:
            notices.append(("url_field_refused", {"name": key, "why": urlstate.shown(str(e), 200)}))
    return notices


def room(session, lang):
    """The studio as a room of the page (see app.py): the trainer (model, weights, curves, a run in progress) is
    kept in the session as soon as it exists, so a rebuilt page (a language switch) takes it over and the other
    rooms see the model being trained (the Backprop tab's finite-difference check takes its weights)."""
    page = create_page(lang, trainer=getattr(session, "trainer", None),
                       on_trainer=lambda trainer: setattr(session, "trainer", trainer))

    def leave():
        page.close()                   # stops this page's callbacks (the trainer's run goes on in the next page)

    page.leave = leave
    return page


def build_studio(page, trainer, t):
    """Fill page.layout with the studio's views over `trainer`, and page with the handles tests use."""
    page.trainer, page.alert, page.drawing, page.loaded_as, page.last_refresh = trainer, None, None, None, 0.0
    on = lambda action: functools.partial(action, page)        # noqa: E731  (an action of this page)
    v = page.views = types.SimpleNamespace(
        architecture=architecture_view(page, t, on(configure)), settings=settings_view(page, t, on(configure)),
        weights=weights_view(page, t, on(load_weights), on(rename_upload), on(refused_upload)),
        run=run_view(page, t, on(act)), code=code_view(page, t),
        message=message_view(page, t), curves=curves_view(page, t), filters=filters_view(page, t),
        maps=maps_view(page, t), results=results_view(page, t), drawing=drawing_view(page, t, on(draw)))
    page.widgets = {**v.architecture.widgets, **v.settings.widgets, **v.weights.widgets, **v.run.widgets,
                    **v.maps.widgets, **v.drawing.widgets}
    page.locked = v.architecture.locked + v.settings.locked + v.run.locked + v.weights.locked
    refresh(page)
    if trainer.status == "running":                 # a rebuilt page (language switch) takes the run over
        start_ticking(page)

    controls = pn.Column(v.architecture.panel, v.settings.panel, v.weights.panel,
                         width=420, css_classes=["studio-controls"])
    learn = pn.Column(v.maps.panel, v.filters.panel, css_classes=["studio-learn"])
    main = pn.Column(pn.pane.HTML(f"<p>{t('intro')}</p>"), pn.Column(v.run.panel, v.message.panel),
                     v.curves.panel, pn.Row(v.drawing.panel, learn), v.results.panel, v.code.panel)
    page.layout.objects = [pn.Row(controls, main)]

    page.message, page.status, page.table = v.message.panel, v.run.status, v.architecture.table
    page.confusion, page.prediction, page.maps = v.results.confusion, v.drawing.prediction, v.maps.maps
    page.sources = {**v.curves.sources, **v.filters.sources, **v.maps.sources, **v.results.sources,
                    **v.drawing.sources}
    page.figures = {**v.curves.figures, **v.filters.figures, **v.results.figures, **v.drawing.figures}
    page.tick, page.refresh, page.draw, page.load_weights = on(tick), on(refresh), on(draw), on(load_weights)
    page.act, page.apply_settings = on(act), on(configure)
    page.close = on(stop_ticking)      # call before dropping the page for a rebuilt one over the same trainer
