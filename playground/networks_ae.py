"""Networks tab, section 3: an autoencoder (오토인코더: 입력과 출력이 같은 신경망, 비지도 학습).

The network learns to give back its input through a narrow code, without labels: the target is the image itself
(mean squared error per pixel). Shown: originals against reconstructions, the code's size, the reconstruction loss
as it trains, and a test digit's code with one or two units moved by sliders, decoded. The model, the code and the
decoding are core's (models.autoencoder, core/compare.py).
"""
import types

import numpy as np
import panel as pn

from core import compare, datasets, models
from . import networks_run, networks_views
from .studio import set_tiles, tile_plot
from .visual import mosaic

CSS = "nets-ae"
TITLE, INTRO = "nets_ae_title", "nets_ae_intro"
SETTINGS = {"code_size": ("int", 16, 1, 128), "train_size": ("int", 10000, 100, 10000),
            "epochs": ("int", 5, 1, 50), "learning_rate": ("float", 5e-3, 1e-5, 10.0)}
LABELS = {"code_size": "nets_ae_code_size", "train_size": "train_size", "epochs": "epochs",
          "learning_rate": "learning_rate"}
TEST_SIZE = 500           # test digits for the test loss and the code's ranges
SHOWN = 8                 # digits shown with their reconstructions
EVERY = 2000              # images between two test-loss points
BATCH_SIZE = 32
SEED = 0


def digits28(data, split, n):
    """n class-balanced digits of a split as the autoencoder takes them: (n, 28, 28, 1) float32 in [0, 1]."""
    x, _ = datasets.class_balanced_subset(data.raw[f"x_{split}"], data.raw[f"y_{split}"],
                                          min(n, len(data.raw[f"y_{split}"])), seed=0)
    return datasets.preprocess(x, pad=False)


# ---------------------------------------------------------------- the experiment

def experiment(data, settings, results):
    """Train models.autoencoder(code_size) on train_size digits (target = input, loss "mse"); every EVERY images
    and at the end: the test MSE, the reconstructions of SHOWN test digits, and where the test digits land in code.

    results: {"model", "run", "test": {"images", "seconds", "mse"}, "shown": (SHOWN, 28, 28, 1) reconstructions,
    "space": compare.code_space(...), "stage"}."""
    x, xt = digits28(data, "train", settings["train_size"]), digits28(data, "test", TEST_SIZE)
    model = models.autoencoder(code_size=settings["code_size"])
    run = networks_run.new_run(model, model.init(SEED), x, x, loss="mse", learning_rate=settings["learning_rate"],
                               batch_size=BATCH_SIZE, seed=SEED)
    results.update(model=model, run=run, test={"images": [], "seconds": [], "mse": []}, xt=xt)

    def measure():
        params = run["params"]
        test = results["test"]
        test["images"].append(run["seen"])
        test["seconds"].append(run["seconds"])
        test["mse"].append(model.evaluate(params, xt, xt, loss="mse"))
        results["shown"] = model.apply(params, xt[:SHOWN])
        results["space"] = compare.code_space(model, params, xt)
        results["params"] = params

    yield from networks_run.epochs_measured(run, "ae", settings["epochs"], EVERY, measure, results)


# ---------------------------------------------------------------- views

def curve_view(section, t):
    """The reconstruction loss: training batches and the test digits, against images seen."""
    fig, src = networks_views.lines_figure(t("nets_ae_loss_title"), t("x_images"), t("nets_ae_mse"),
                                           f"{CSS}-loss", ("train", "test"), (t("legend_train"), t("legend_val")))

    def refresh():
        res = section.experiment.results
        curve = res["run"]["curve"] if "run" in res else {"images": [], "loss": []}
        test = res.get("test", {"images": [], "seconds": [], "mse": []})
        networks_views.show_lines(fig, src, {"train": {"x": curve["images"], "y": curve["loss"]},
                                             "test": {"x": test["images"], "y": test["mse"],
                                                      "seconds": test["seconds"]}})

    src["test"].data = {"x": [], "y": [], "seconds": []}
    return types.SimpleNamespace(panel=pn.pane.Bokeh(fig), refresh=refresh, sources=src)


def code_view(section, t):
    """A test digit's code with units A and B moved by sliders, decoded (core.compare.decode); the code's size."""
    w = {"digit": pn.widgets.IntSlider(label=t("nets_ae_digit"), start=0, end=TEST_SIZE - 1, value=0, width=200,
                                       css_classes=[f"{CSS}-digit"]),
         "unit_a": pn.widgets.IntInput(label=t("nets_ae_unit", which="A"), start=0, value=0, width=90,
                                       css_classes=[f"{CSS}-unit-a"]),
         "unit_b": pn.widgets.IntInput(label=t("nets_ae_unit", which="B"), start=0, value=1, width=90,
                                       css_classes=[f"{CSS}-unit-b"]),
         "value_a": pn.widgets.FloatSlider(label=t("nets_ae_value", which="A"), start=0, end=1, value=0, step=0.01,
                                           width=200, css_classes=[f"{CSS}-value-a"]),
         "value_b": pn.widgets.FloatSlider(label=t("nets_ae_value", which="B"), start=0, end=1, value=0, step=0.01,
                                           width=200, css_classes=[f"{CSS}-value-b"])}
    size = pn.pane.HTML("", css_classes=[f"{CSS}-code"], width=400)
    fig, src = tile_plot(np.full((28, 28), np.nan), t("nets_ae_decoded"), f"{CSS}-decoded", width=140)
    busy = {"setting": False}

    def space():
        res = section.experiment.results
        return res.get("space"), res.get("params"), res.get("model")

    def pick_digit(_=None):
        """Put the sliders at the chosen digit's own code (their ranges: each unit's over the test digits)."""
        found, _, _ = space()
        if found is None:
            return
        busy["setting"] = True
        code = found["codes"][w["digit"].value]
        for which in ("a", "b"):
            unit = min(max(w[f"unit_{which}"].value, 0), found["size"] - 1)
            w[f"value_{which}"].param.update(start=round(float(found["low"][unit]), 3),
                                             end=round(float(found["high"][unit]), 3), value=float(code[unit]))
        busy["setting"] = False
        show()

    def show(_=None):
        found, params, model = space()
        if found is None or busy["setting"]:
            return
        units = [min(max(w[f"unit_{k}"].value, 0), found["size"] - 1) for k in ("a", "b")]
        moves = dict(zip(units, (w["value_a"].value, w["value_b"].value)))
        image = compare.decode(model, params, found["codes"][w["digit"].value], moves)
        set_tiles(fig, src, image[..., 0], 140)

    def refresh():
        found = section.experiment.results.get("space")
        if found is None:
            size.object = f"<i>{t('nets_ae_empty')}</i>"
            return
        size.object = t("nets_ae_code", size=found["size"], pixels=found["pixels"], ratio=found["ratio"])
        for which in ("a", "b"):
            w[f"unit_{which}"].end = found["size"] - 1
        pick_digit()

    w["digit"].param.watch(pick_digit, "value")
    w["unit_a"].param.watch(pick_digit, "value")
    w["unit_b"].param.watch(pick_digit, "value")
    w["value_a"].param.watch(show, "value")
    w["value_b"].param.watch(show, "value")
    panel = pn.Column(size, pn.Row(pn.Column(w["digit"], pn.Row(w["unit_a"], w["unit_b"]), w["value_a"],
                                             w["value_b"]), pn.pane.Bokeh(fig)))
    return types.SimpleNamespace(panel=panel, refresh=refresh, widgets=w, size=size, sources={"decoded": src})


def results_view(section, t, data):
    """Originals (top row) and reconstructions (bottom row); the loss curve; the code space."""
    fig, src = tile_plot(np.full((57, 8 * 29 - 1), np.nan), t("nets_ae_pairs"), f"{CSS}-pairs", width=8 * 36)
    curve, code = curve_view(section, t), code_view(section, t)
    shown = {"id": None}

    def refresh():
        curve.refresh()
        res = section.experiment.results
        if res.get("shown") is not None and shown["id"] != id(res["shown"]):
            shown["id"] = id(res["shown"])
            pairs = np.concatenate([res["xt"][:SHOWN, :, :, 0], res["shown"][:, :, :, 0]])
            set_tiles(fig, src, mosaic(pairs, cols=SHOWN, scale_each=False), 8 * 36)
            code.refresh()

    panel = pn.Column(pn.Row(curve.panel, pn.Column(pn.pane.Bokeh(fig), code.panel)))
    return types.SimpleNamespace(panel=panel, refresh=refresh, code=code, widgets=code.widgets,
                                 sources={**curve.sources, "pairs": src, **code.sources})
