"""Backward-pass explorer (역전파): a network small enough to read whole, every tensor of its forward pass and
every gradient of its backward pass, laid out as the chain rule runs, from the loss back to the input.

Storyboard:
1. `input_view`: a real digit (0, 1 or 2 from the test set) or one drawn on the canvas, shrunk to 8x8; the
   network's weights (a seed), max or average pooling.
2. `chain_view`: input 8x8 -> Conv2D(2, 3) -> ReLU -> MaxPooling2D(2) -> Dense(3) -> softmax cross-entropy: one row
   per layer, output first, its tensor beside its gradient (each number on hover), with the rule that moved the
   gradient one layer back.
3. `terms_view`: click a kernel weight (the conv kernel's gradient): its gradient is the sum over the 6x6 output
   pixels of (input value under that weight) x (upstream gradient), the input block highlighted, the sum written
   out: the same shared weight, seen from the backward side.
4. `pool_view`: the same input through max and average pooling's backward passes, side by side: max routes each
   gradient to the one pixel that won, average spreads it evenly.
5. `check_view`: "check with finite differences": the selected weight's numerical gradient (central difference,
   float64) beside backprop's, with the relative error; also for any architecture the studio can build.
6. `sgd_view`: one SGD step by hand: the weight minus learning rate x gradient, and the loss before and after.

Every number is core's (core.backprop over core.models); `room(session, lang)` builds the tab.
"""
import functools
import html
import types

import numpy as np
import panel as pn
from bokeh import events
from bokeh.models import ColumnDataSource, FreehandDrawTool, Range1d
from bokeh.plotting import figure

from core import backprop, datasets, drawing, metrics
from . import heatmaps, i18n, studio_arch, training, urlstate
from .views import TABLE_CSS, fmt

# The chain, output first: (stage, the tensor shown, its gradient, the i18n key of the rule that moved it back).
STAGES = (("dense", "bp_rule_loss"), ("flatten", "bp_rule_dense"), ("pool", "bp_rule_flatten"),
          ("relu", "bp_rule_pool"), ("conv", "bp_rule_relu"), ("input", "bp_rule_conv"))
WEIGHTS = {"dense": "bp_weights_dense", "conv": "bp_weights_conv"}   # kernels drawn with their gradients
POOLINGS = ("max", "average")
CHECK_BATCH = 8                           # test digits the studio-model check takes
MAX_TERMS = 40                            # a written-out sum longer than this is cut
FALLBACK = [((14, 14, 14), (4, 14, 24))]  # a drawn "1" while the MNIST subset is not loaded yet
ERROR_CSS = ".bp-error { color: #b00020; }"    # panes render in shadow roots: their style travels with them


def initial_state():
    return {"source": "test", "index": 0, "strokes": None, "label": 1, "pooling": "max", "seed": 0,
            "params": None, "selected": (1, 1, 0, 0), "lr": 0.5, "step": None, "check": None,
            "check_model": "explorer", "arch": None, "check_layer": "C1", "check_index": "2, 2, 0, 3",
            "message": None}


# ---------------------------------------------------------------- pure functions (through core)

def explorer_digits(data):
    """The test digits the explorer offers (0, 1, 2) as uint8 (M, 28, 28) and their labels (M,) (indices into
    core.backprop.EXPLORER_CLASSES, which are the digits themselves)."""
    keep = np.isin(data["y_test"], backprop.EXPLORER_CLASSES)
    return data["x_test"][keep], data["y_test"][keep]


def example(state, digits):
    """(x (1, 8, 8, 1), y (1,), the 28x28 digit) for the state's source: a test digit or the drawing."""
    if state["source"] == "drawing" and state["strokes"]:
        image = drawing.strokes_to_image(state["strokes"])
        label = state["label"]
    else:
        images, labels = digits
        i = min(state["index"], len(labels) - 1)
        image, label = images[i], int(labels[i])
    return backprop.shrink_digit(image[None]), np.array([label]), image


def compute(state, digits):
    """Everything the explorer shows: model, chain (core.backprop.chain), terms of the selected kernel weight,
    pooling routes over the ReLU output, probabilities."""
    model = backprop.explorer_model(state["pooling"])
    if state["params"] is None:
        state["params"] = model.init(seed=state["seed"])
    x, y, image = example(state, digits)
    chain = backprop.chain(model, state["params"], x, y)
    return {"model": model, "x": x, "y": y, "image": image, "chain": chain,
            "probs": metrics.softmax(chain["outputs"]["dense"])[0],
            "terms": backprop.kernel_terms(model, chain, "conv", state["selected"]),
            "routes": backprop.pool_routes(chain["outputs"]["relu"], chain["gradients"]["pool"], 2)}


def check_studio_model(state, session, data):
    """Finite differences on one weight of the architecture in state["arch"] (the studio's text): the studio's
    trained params when it holds that architecture, else fresh ones from the seed; CHECK_BATCH test digits."""
    model = studio_arch.parse(state["arch"])
    trainer = getattr(session, "trainer", None)
    same = trainer is not None and studio_arch.format_model(trainer.model) == studio_arch.format_model(model)
    params = trainer.params if same else model.init(seed=state["seed"])
    index = parse_index(state["check_index"])
    x, y = datasets.pad_to_32(data["x_test"][:CHECK_BATCH]), data["y_test"][:CHECK_BATCH]
    return dict(backprop.numerical_grad(model, params, x, y, state["check_layer"], "kernel", index),
                trained=same)


def parse_index(text):
    """'2, 2, 0, 3' -> (2, 2, 0, 3); ValueError naming the field for anything else."""
    try:
        return tuple(int(part) for part in str(text).replace("(", "").replace(")", "").split(","))
    except ValueError:
        raise ValueError(f"weight index must be whole numbers separated by commas, like 2, 2, 0, 3; got {text!r}") \
            from None


# ---------------------------------------------------------------- text

def terms_html(terms, t, layer_grad):
    """The sum behind dL/dK[di, dj, 0, f], term by term: x value x upstream gradient, zeros counted not listed."""
    di, dj, c, f = terms["index"]
    inputs, upstream, products = terms["inputs"][0], terms["upstream"][0], terms["terms"][0]
    nonzero = [(i, j) for i in range(products.shape[0]) for j in range(products.shape[1]) if products[i, j] != 0]
    shown = [f"{fmt(inputs[i, j])}×{fmt(upstream[i, j])}" for i, j in nonzero[:MAX_TERMS]]
    more = len(nonzero) - len(shown)
    zeros = products.size - len(nonzero)
    return (f"<b>{t('bp_terms_title', di=di, dj=dj, f=f)}</b>"
            f"<p>{t('bp_terms_rule', n=products.size, top=terms['rows'][0], left=terms['cols'][0])}</p>"
            f"<p class='dot-sum'>Σ = {' + '.join(shown)}{t('bp_terms_more', n=more) if more else ''}</p>"
            f"<p>{t('bp_terms_zeros', n=zeros)}</p>"
            f"<p class='dot-sum'>= {fmt(terms['total'])} &nbsp; ({t('bp_terms_core', value=fmt(layer_grad))})</p>")


def check_html(check, t):
    if check is None:
        return f"<i>{t('bp_check_hint')}</i>"
    if "error" in check:
        return f"<span class='bp-error'>{html.escape(check['error'])}</span>"
    return t("bp_check_result", numerical=f"{check['numerical']:.10g}", backprop=f"{check['backprop']:.10g}",
             error=f"{check['relative_error']:.2e}", eps=check["eps"])


def step_html(step, t):
    if step is None:
        return f"<i>{t('bp_step_hint')}</i>"
    if "error" in step:
        return f"<span class='bp-error'>{html.escape(step['error'])}</span>"
    return t("bp_step_result", w=fmt(step["w"]), lr=fmt(step["lr"]), g=fmt(step["g"]), new=fmt(step["new"]),
             before=f"{step['loss_before']:.5f}", after=f"{step['loss_after']:.5f}")


# ---------------------------------------------------------------- views

def input_view(state, t, changed, n_digits):
    """Test digit or drawing, the digit slider, the drawing's label, weights seed, pooling; the canvas."""
    w = {"source": pn.widgets.RadioButtonGroup(options={t("src_test"): "test", t("src_drawing"): "drawing"},
                                               value=state["source"], css_classes=["bp-source"]),
         "index": pn.widgets.IntSlider(label=t("test_index"), start=0, end=max(0, n_digits - 1),
                                       value=min(state["index"], max(0, n_digits - 1)), width=260,
                                       css_classes=["bp-index"]),
         "label": pn.widgets.Select(label=t("bp_label"), options=list(backprop.EXPLORER_CLASSES),
                                    value=state["label"], width=100, css_classes=["bp-label"]),
         "pooling": pn.widgets.RadioButtonGroup(options={t("pool_max"): "max", t("pool_avg"): "average"},
                                                value=state["pooling"], css_classes=["bp-pooling"]),
         "seed": pn.widgets.IntInput(label=t("bp_seed"), value=state["seed"], start=0, width=100,
                                     css_classes=["bp-seed"])}
    canvas = figure(width=150, height=150, x_range=Range1d(0, 28), y_range=Range1d(28, 0), tools="",
                    toolbar_location=None, background_fill_color="black", name="bp-canvas", css_classes=["bp-canvas"])
    canvas.axis.visible = canvas.grid.visible = False
    strokes = ColumnDataSource({"xs": [], "ys": []}, name="bp-strokes")
    lines = canvas.multi_line("xs", "ys", source=strokes, line_width=12, line_color="white", line_cap="round")
    tool = FreehandDrawTool(renderers=[lines], num_objects=0)
    canvas.add_tools(tool)
    canvas.toolbar.active_drag = tool
    clear = pn.widgets.Button(label=t("draw_clear"), width=80, css_classes=["bp-clear"])
    clear.on_click(lambda _: strokes.update(data={"xs": [], "ys": []}))
    strokes.on_change("data", lambda attr, old, new: changed(strokes=[
        (xs, ys) for xs, ys in zip(new.get("xs", []), new.get("ys", [])) if len(xs)] or None))
    for key, widget in w.items():
        widget.param.watch(lambda e, key=key: changed(**{key: e.new}), "value")
    panel = pn.Column(w["source"], w["index"], pn.Row(pn.pane.Bokeh(canvas), pn.Column(w["label"], clear)),
                      w["pooling"], w["seed"])
    return types.SimpleNamespace(panel=panel, widgets={**w, "clear": clear}, strokes=strokes, canvas=canvas)


def chain_view(state, t, select_weight):
    """One row per stage, output first: its tensor and dL/d(it); the dense and conv kernels with their gradients
    (a click on the conv kernel's gradient selects a weight)."""
    plots, rows = {}, []
    for name, rule in STAGES:
        value = heatmaps.heatmap(name, f"bp-{name}-value")
        grad = heatmaps.heatmap(f"∂L/∂{name}", f"bp-{name}-grad")
        plots[name] = (value, grad)
        caption = pn.pane.HTML("", width=260)
        plots[name + "_rule"] = (caption, rule)
        rows.append(pn.Row(caption, pn.pane.Bokeh(value.figure), pn.pane.Bokeh(grad.figure)))
        if name in WEIGHTS:
            kernel = heatmaps.heatmap(f"{name} kernel", f"bp-{name}-kernel", cell=30 if name == "conv" else 12)
            kgrad = heatmaps.heatmap(f"∂L/∂{name} kernel", f"bp-{name}-kernel-grad",
                                     cell=30 if name == "conv" else 12)
            plots[name + "_kernel"] = (kernel, kgrad)
            rows.append(pn.Row(pn.pane.HTML(f"<small>{t(WEIGHTS[name])}</small>", width=260),
                               pn.pane.Bokeh(kernel.figure), pn.pane.Bokeh(kgrad.figure)))
    pick = heatmaps.outline(plots["conv_kernel"][1], "bp-selected-weight", fill_alpha=0, line_color="lime",
                            line_width=3)
    plots["conv_kernel"][1].figure.on_event(events.Tap, lambda e: select_weight(e.x, e.y))
    loss = pn.pane.HTML("", css_classes=["bp-loss"])

    def refresh(res):
        c = res["chain"]
        loss.object = t("bp_loss", loss=f"{c['loss']:.5f}", label=int(res["y"][0]),
                        probs=", ".join(f"{p:.3f}" for p in res["probs"]))
        for name, rule in STAGES:
            value, grad = plots[name]
            heatmaps.show(value, heatmaps.tiles(c["outputs"][name][0]), t("bp_tensor", name=name))
            heatmaps.show(grad, heatmaps.tiles(c["gradients"][name][0]), f"∂L/∂{name}")
            plots[name + "_rule"][0].object = f"<small>{t(rule)}</small>"
        for name in WEIGHTS:
            kernel, kgrad = plots[name + "_kernel"]
            heatmaps.show(kernel, heatmaps.tiles(state["params"][name]["kernel"]))
            heatmaps.show(kgrad, heatmaps.tiles(c["grads"][name]["kernel"]))
        di, dj, _, f = state["selected"]
        left = f * (3 + 1) + dj                                  # tiles() puts filter f's 3x3 at column 4f
        pick.data = {"left": [left], "right": [left + 1], "top": [di], "bottom": [di + 1]}

    panel = pn.Column(pn.pane.HTML(f"<b>{t('bp_chain_title')}</b>"), loss, *rows, css_classes=["bp-chain"])
    return types.SimpleNamespace(panel=panel, refresh=refresh, plots=plots, loss=loss, pick=pick)


def terms_view(state, t):
    """The selected weight's input block on the input, the upstream gradient, and the sum written out."""
    block = heatmaps.heatmap(t("bp_terms_input"), "bp-terms-input", shape=(8, 8))
    box = heatmaps.outline(block, "bp-terms-block", fill_alpha=0.15, fill_color="lime", line_color="lime",
                           line_width=3)
    upstream = heatmaps.heatmap(t("bp_terms_upstream"), "bp-terms-upstream", shape=(6, 6))
    text = pn.pane.HTML("", css_classes=["bp-terms"], stylesheets=[TABLE_CSS], width=700)

    def refresh(res):
        terms = res["terms"]
        heatmaps.show(block, res["x"][0, :, :, 0])
        top, left = int(terms["rows"][0]), int(terms["cols"][0])
        box.data = {"left": [left], "right": [int(terms["cols"][-1]) + 1], "top": [top],
                    "bottom": [int(terms["rows"][-1]) + 1]}
        heatmaps.show(upstream, terms["upstream"][0], t("bp_terms_upstream_f", f=terms["index"][3]))
        text.object = terms_html(terms, t, res["chain"]["grads"]["conv"]["kernel"][terms["index"]])

    panel = pn.Column(pn.Row(pn.pane.Bokeh(block.figure), pn.pane.Bokeh(upstream.figure)), text,
                      css_classes=["bp-terms-view"])
    return types.SimpleNamespace(panel=panel, refresh=refresh, text=text, box=box)


def pool_view(state, t):
    """For the selected filter: the ReLU map, the gradient arriving at the pooled map, and where max and average
    pooling send it."""
    names = ("input", "arriving", "max", "average")
    plots = {n: heatmaps.heatmap("", f"bp-route-{n}", shape=(6, 6) if n != "arriving" else (3, 3))
             for n in names}

    def refresh(res):
        f = state["selected"][3]
        c, routes = res["chain"], res["routes"]
        heatmaps.show(plots["input"], c["outputs"]["relu"][0, :, :, f], t("bp_route_input", f=f))
        heatmaps.show(plots["arriving"], c["gradients"]["pool"][0, :, :, f], t("bp_route_arriving"))
        heatmaps.show(plots["max"], routes["max"]["dx"][0, :, :, f], t("bp_route_max"))
        heatmaps.show(plots["average"], routes["average"]["dx"][0, :, :, f], t("bp_route_avg"))

    panel = pn.Column(pn.pane.HTML(f"<b>{t('bp_route_title')}</b>"),
                      pn.Row(*(pn.pane.Bokeh(plots[n].figure) for n in names)), css_classes=["bp-routes"])
    return types.SimpleNamespace(panel=panel, refresh=refresh, plots=plots)


def check_view(state, t, run_check):
    """Which model (the explorer, or an architecture the studio can build), which weight, and the check."""
    w = {"check_model": pn.widgets.RadioButtonGroup(options={t("bp_model_explorer"): "explorer",
                                                             t("bp_model_studio"): "studio"},
                                                    value=state["check_model"], css_classes=["bp-check-model"]),
         "arch": pn.widgets.TextAreaInput(value=state["arch"] or studio_arch.lenet5_text(), height=150, width=380,
                                          css_classes=["bp-arch"]),
         "check_layer": pn.widgets.TextInput(label=t("bp_check_layer"), value=state["check_layer"], width=100,
                                             css_classes=["bp-check-layer"]),
         "check_index": pn.widgets.TextInput(label=t("bp_check_index"), value=state["check_index"], width=120,
                                             css_classes=["bp-check-index"]),
         "check": pn.widgets.Button(label=t("bp_check"), color="primary", css_classes=["bp-check"])}
    result = pn.pane.HTML("", css_classes=["bp-check-result"], width=520, stylesheets=[ERROR_CSS])
    w["check"].on_click(lambda _: run_check())
    studio_only = [w["arch"], w["check_layer"], w["check_index"]]

    def refresh():
        for widget in studio_only:
            widget.visible = w["check_model"].value == "studio"
        result.object = check_html(state["check"], t)

    w["check_model"].param.watch(lambda e: refresh(), "value")
    panel = pn.Column(pn.pane.HTML(f"<b>{t('bp_check_title')}</b><br><small>{t('bp_check_help')}</small>"),
                      w["check_model"], w["arch"], pn.Row(w["check_layer"], w["check_index"]), w["check"], result)
    return types.SimpleNamespace(panel=panel, refresh=refresh, widgets=w, result=result)


def sgd_view(state, t, take_step, reset):
    """A learning rate, one SGD step by hand, and Reset (the seed's weights again)."""
    w = {"lr": pn.widgets.FloatInput(label=t("learning_rate"), value=state["lr"], step=0.1, width=120,
                                     css_classes=["bp-lr"]),
         "sgd": pn.widgets.Button(label=t("bp_sgd"), css_classes=["bp-sgd"]),
         "reset": pn.widgets.Button(label=t("reset"), css_classes=["bp-reset"])}
    result = pn.pane.HTML("", css_classes=["bp-sgd-result"], width=520, stylesheets=[ERROR_CSS])
    w["sgd"].on_click(lambda _: take_step())
    w["reset"].on_click(lambda _: reset())

    def refresh():
        result.object = step_html(state["step"], t)

    panel = pn.Column(pn.pane.HTML(f"<b>{t('bp_sgd_title')}</b>"), pn.Row(w["lr"], w["sgd"], w["reset"]), result)
    return types.SimpleNamespace(panel=panel, refresh=refresh, widgets=w, result=result)


# ---------------------------------------------------------------- what the page does

def show(lab):
    """Recompute the chain for the state and redraw every view."""
    state, v = lab.state, lab.views
    try:
        lab.result = compute(state, lab.digits)
    except ValueError as e:                # a drawing that is not one: keep the last good picture
        lab.message.object, lab.message.visible = html.escape(str(e)), True
        return
    lab.message.object = state["message"] or ""
    lab.message.visible = bool(state["message"])
    for view in (v.chain, v.terms, v.pool):
        view.refresh(lab.result)
    v.check.refresh()
    v.sgd.refresh()


def changed(lab, **settings):
    """An input setting changed: a new seed or pooling keeps no SGD steps; the chain is recomputed."""
    state = lab.state
    if "seed" in settings and not isinstance(settings["seed"], int):
        return
    if "seed" in settings:
        state["params"] = None                   # the seed's weights
    if "strokes" in settings:                   # a stroke shows the drawing; clearing it, the test digit again
        settings["source"] = "drawing" if settings["strokes"] else "test"
    state.update(settings)
    source = lab.views.input.widgets["source"]
    if source.value != state["source"]:
        source.value = state["source"]           # its watcher finds the state already there
    state["step"] = state["check"] = None
    show(lab)


def select_weight(lab, x, y):
    """A click on the conv kernel's gradient: the weight under it becomes the selected one."""
    if x is None or y is None:
        return
    kernel = lab.state["params"]["conv"]["kernel"]
    hit = heatmaps.tile_pixel(kernel[:, :, 0, :].shape, int(np.floor(y)), int(np.floor(x)))
    if hit is not None:
        r, c, f = hit
        lab.state["selected"] = (r, c, 0, f)
        lab.state["check"] = None
        show(lab)


def run_check(lab):
    """Finite differences for the selected explorer weight, or a weight of the studio architecture."""
    state, w = lab.state, lab.views.check.widgets
    state.update(check_model=w["check_model"].value, arch=w["arch"].value, check_layer=w["check_layer"].value,
                 check_index=w["check_index"].value)
    try:
        if state["check_model"] == "explorer":
            r = lab.result
            state["check"] = backprop.numerical_grad(r["model"], state["params"], r["x"], r["y"], "conv",
                                                     "kernel", state["selected"])
        else:
            state["check"] = check_studio_model(state, lab.session, lab.data())
    except (ValueError, FileNotFoundError) as e:
        state["check"] = {"error": str(e)}
    lab.views.check.refresh()


def take_step(lab):
    """One SGD step on the explorer's weights with this example; the chain is redrawn after it."""
    state, r = lab.state, lab.result
    lr, index = lab.views.sgd.widgets["lr"].value, state["selected"]
    try:
        step = backprop.sgd_step(r["model"], state["params"], r["x"], r["y"], lr)
    except ValueError as e:                 # a learning rate that is empty, NaN or <= 0, in core's words
        state["step"] = {"error": str(e)}
        lab.views.sgd.refresh()
        return
    old = float(state["params"]["conv"]["kernel"][index])
    state.update(lr=lr, params=step["params"], check=None)
    state["step"] = {"w": old, "g": float(step["grads"]["conv"]["kernel"][index]), "lr": lr,
                     "new": float(step["params"]["conv"]["kernel"][index]), "loss_before": step["loss_before"],
                     "loss_after": step["loss_after"]}
    show(lab)


def reset(lab):
    lab.state.update(params=None, step=None, check=None)
    show(lab)


def load_digits(lab):
    """The test digits 0-2 from the MNIST subset, or, while the site is still fetching it, a drawn 1."""
    try:
        lab.digits = explorer_digits(lab.data())
        lab.state["message"] = None
    except (FileNotFoundError, ValueError):
        image = drawing.strokes_to_image(FALLBACK)
        lab.digits = (image[None], np.array([1]))
        lab.state["message"] = i18n.text(lab.lang, "bp_no_data")


# ---------------------------------------------------------------- the lab

def build(state, lang="en", data=None, session=None):
    """The explorer over `state` (kept across rebuilds). data: the MNIST subset (training.load_data() when None).
    session: the page's (the studio's trainer, when it has one, is what the finite-difference check takes)."""
    t = functools.partial(i18n.text, lang)
    lab = types.SimpleNamespace(state=state, lang=lang, session=session or types.SimpleNamespace())
    lab.data = (lambda: data) if data is not None else training.load_data
    load_digits(lab)
    on = lambda action: functools.partial(action, lab)        # noqa: E731  (an action of this lab)
    lab.message = pn.pane.Alert("", alert_type="info", visible=False, css_classes=["bp-message"])
    v = lab.views = types.SimpleNamespace()
    v.input = input_view(state, t, on(changed), len(lab.digits[1]))
    v.chain, v.terms, v.pool = chain_view(state, t, on(select_weight)), terms_view(state, t), pool_view(state, t)
    v.check, v.sgd = check_view(state, t, on(run_check)), sgd_view(state, t, on(take_step), on(reset))
    show(lab)

    controls = pn.Column(pn.pane.HTML(f"<p>{t('bp_intro')}</p>"), v.input.panel, v.sgd.panel, v.check.panel,
                         width=420, css_classes=["bp-controls"])
    main = pn.Column(lab.message, v.chain.panel, pn.pane.HTML(f"<b>{t('bp_terms_heading')}</b>"), v.terms.panel,
                     v.pool.panel)
    lab.layout = pn.Row(controls, main, css_classes=["bp-lab"])
    lab.widgets = {**v.input.widgets, **v.check.widgets, **v.sgd.widgets}
    lab.select_weight, lab.run_check, lab.take_step = on(select_weight), on(run_check), on(take_step)
    lab.reopen = on(reopen)
    lab.url_state, lab.restore = on(url_state), on(restore)
    return lab


def reopen(lab):
    """The tab opened again: the digits may have arrived since (the site fetches them after the page is ready)."""
    if lab.state["message"]:
        load_digits(lab)
        lab.views.input.widgets["index"].end = max(1, len(lab.digits[1]) - 1)
        show(lab)


CHECKS = {"source": lambda n, v: urlstate.choice(n, v, ("test", "drawing")),
          "index": lambda n, v: urlstate.number(n, v, 0, 10_000, integer=True),
          "pooling": lambda n, v: urlstate.choice(n, v, POOLINGS),
          "seed": lambda n, v: urlstate.number(n, v, 0, 2**31 - 1, integer=True),
          "lr": lambda n, v: urlstate.number(n, v, 1e-6, 100),
          "selected": lambda n, v: selected_check(n, v)}


def selected_check(name, value):
    """A kernel weight of the explorer's conv: [row, col, 0, filter] within (3, 3, 1, 2)."""
    if not (isinstance(value, list) and len(value) == 4):
        raise urlstate.Refused(name, value, "[row, col, 0, filter]")
    return tuple(urlstate.number(name, v, 0, hi, integer=True) for v, hi in zip(value, (2, 2, 0, 1)))


def url_state(lab):
    s = lab.state
    return {"source": s["source"] if s["strokes"] else "test", "index": s["index"], "pooling": s["pooling"],
            "seed": s["seed"], "lr": s["lr"], "selected": list(s["selected"])}


def restore(lab, given):
    """Apply a URL's settings (playground.urlstate's checks; never raises); returns the refusals' notices."""
    values, notices = urlstate.restore_fields(given, CHECKS, url_state(lab))
    values["index"] = min(values["index"], max(0, len(lab.digits[1]) - 1))
    w = lab.views.input.widgets
    lab.state.update(selected=tuple(values["selected"]), lr=values["lr"])
    lab.views.sgd.widgets["lr"].value = values["lr"]
    if values["seed"] != lab.state["seed"]:
        lab.state.update(seed=values["seed"], params=None)
    lab.state.update(index=values["index"], pooling=values["pooling"],
                     source=values["source"] if lab.state["strokes"] else "test")
    for key in ("index", "pooling", "seed", "source"):
        if w[key].value != lab.state[key]:
            w[key].value = lab.state[key]
    show(lab)
    return notices


def room(session, lang):
    """The explorer as a room of the page (see app.py): its state lives in the session."""
    return build(vars(session).setdefault("backprop_state", initial_state()), lang, session=session)
