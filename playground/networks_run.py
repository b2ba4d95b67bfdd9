"""The Networks tab's runner: an experiment is a generator of core calls, advanced a slice of time per tick.

    exp = Experiment()
    exp.start(lambda results: mlp_vs_cnn(data, settings, results))   # a generator filling exp.results
    while exp.status == "running":
        exp.advance(0.25)                                # the page calls this from a periodic callback
    exp.act("pause"); exp.act("resume"); exp.act("stop")

An experiment's generator yields after each small piece of work (a batch, an evaluation), so Pause and Stop answer
within one piece, as in the studio. Its training is `epoch(run)`: one core.step.train_step per batch under core's
divergence rule; a loss that breaks it ends the experiment (status "diverged") with the run's last good params and
the studio's message. No numerics here: the steps, losses, optimizers and metrics are core's.
"""
import math
import time

import numpy as np

from core import losses, optimizers, step
from . import urlstate

LOG_EVERY = 5          # batches per point of a training curve
STATUSES = ("ready", "running", "paused", "stopped", "done", "diverged")
MOVES = {"pause": (("running",), "paused"), "resume": (("paused",), "running"),     # button: (from, to)
         "stop": (("running", "paused"), "stopped")}


class Halt(Exception):
    """Ends an experiment from inside its generator: status (one of STATUSES) and message (kind, i18n key, values)."""

    def __init__(self, status, message):
        super().__init__(status)
        self.status, self.message = status, message


class Experiment:
    """One experiment of the tab: ready -> running <-> paused -> done | stopped | diverged; start() again re-runs."""

    def __init__(self):
        self.status, self.message, self.results, self.generator = "ready", None, {}, None

    def start(self, make):
        """Run make(results), a generator that fills `results` (a fresh dict: the last run's are dropped)."""
        if self.status in ("running", "paused"):
            raise ValueError(f"the experiment is already {self.status}")
        self.results = {}
        self.generator, self.status, self.message = make(self.results), "running", None

    def advance(self, seconds):
        """Run the generator for about `seconds` (at least one piece). Returns True while it is running."""
        if self.status != "running":
            return False
        end = time.perf_counter() + seconds
        try:
            next(self.generator)
            while time.perf_counter() < end:
                next(self.generator)
        except StopIteration:
            self._end("done", ("info", "nets_msg_done", {}))
        except Halt as halt:
            self._end(halt.status, halt.message)
        return self.status == "running"

    def act(self, name):
        """A run button: "pause", "resume" or "stop" (ending the run; what it measured stays in results).
        ValueError, nothing changed, when the status does not allow it."""
        allowed, status = MOVES[name]
        if self.status not in allowed:
            raise ValueError(f"cannot {name}: the experiment is {self.status}")
        if status == "stopped":
            self._end("stopped", ("info", "nets_msg_stopped", {}))
        else:
            self.status = status

    def _end(self, status, message):
        if self.generator is not None:
            self.generator.close()
        self.generator, self.status, self.message = None, status, message


# ---------------------------------------------------------------- training, one batch per piece

def new_run(model, params, x, y, loss="categorical_crossentropy", learning_rate=1e-3, batch_size=32, seed=0):
    """What one model's training carries between batches: the model, its params (and the last good ones), Adam's
    state, the data, the divergence limit, images seen and seconds spent training, and the training curve
    {"images", "loss"} (a point per LOG_EVERY batches).
    """
    opt = optimizers.Adam(learning_rate)
    return {"model": model, "params": params, "good": params, "opt": opt,
            "state": opt.init(model.trainable_params(params)),
            "loss_fn": losses.get(loss), "x": x, "y": y, "batch_size": int(batch_size), "lr": learning_rate,
            "rng": np.random.default_rng(seed), "limit": None, "seen": 0, "seconds": 0.0, "epochs": 0,
            "curve": {"images": [], "loss": []}, "pending": []}


def epoch(run):
    """One shuffled epoch of `run`, a yield after each batch; run's params, state and curve change as it goes.

    A loss that breaks core's rule raises Halt("diverged") with run["params"] put back to the last good ones."""
    n, bs = len(run["y"]), run["batch_size"]
    order = run["rng"].permutation(n)
    for i in range(math.ceil(n / bs)):
        idx = order[i * bs:(i + 1) * bs]
        start = time.perf_counter()
        try:
            params, run["state"], batch = step.train_step(run["model"], run["opt"], run["loss_fn"], run["params"],
                                                          run["state"], run["x"][idx], run["y"][idx], run["rng"],
                                                          run["limit"])
        except step.Diverged as e:
            run["params"] = run["good"]
            values = {"loss": e.loss, "images": run["seen"], "optimizer": "Adam", "lr": run["lr"]}
            if getattr(e, "gradient", None) is not None:       # a finite loss whose gradient overflowed
                raise Halt("diverged", ("error", "nets_msg_gradient", dict(values, weight=e.gradient))) from None
            key = "msg_diverged" if math.isfinite(e.loss) else "msg_nonfinite"
            raise Halt("diverged", ("error", key, values)) from None
        run["good"], run["params"] = run["params"], params      # the old params' loss passed the check
        run["limit"] = step.loss_limit(batch["loss"], run["limit"])
        run["seen"] += batch["count"]
        run["seconds"] += time.perf_counter() - start         # training time alone: what the targets count
        run["pending"].append(batch["loss"])
        if len(run["pending"]) == LOG_EVERY or i == math.ceil(n / bs) - 1:
            run["curve"]["images"].append(run["seen"])
            run["curve"]["loss"].append(float(np.mean(run["pending"])))
            run["pending"] = []
        yield
    if not step.all_finite(run["params"]):                      # the last update is only good once shown finite
        run["params"] = run["good"]
    run["epochs"] += 1


def epochs_measured(run, name, epochs, every, measure, results):
    """`epochs` epochs of run, a yield per batch, calling measure() once every `every` images and after the last
    batch (measure: a core evaluation that appends to results). results["stage"] says which epoch of the model
    `name` (i18n model_<name>) is on."""
    due = run["seen"] + every
    for e in range(epochs):
        results["stage"] = ("nets_stage_train", {"model": name, "epoch": e + 1, "epochs": epochs})
        for _ in epoch(run):
            if run["seen"] >= due:
                measure()
                due = run["seen"] + every
            yield
    measure()
    results["stage"] = ("nets_stage_done", {})


# ---------------------------------------------------------------- settings: what a section takes, checked once
# A spec per setting: ("int" | "float", default, low, high), ("choice", default, options) or
# ("choices", default tuple, options) for a fixed-length list. The widgets, the experiments and a URL's state
# (which may be anything) all go through check(), made of the page's shared URL checks (playground/urlstate.py), so
# a refusal is a ValueError whose .notice the page shows in either language.

def check(spec, value, name):
    """value as the setting `name` takes it (int, float, one option, a tuple of options), or urlstate.Refused."""
    kind = spec[0]
    if kind in ("int", "float"):
        return urlstate.number(name, value, spec[2], spec[3], integer=kind == "int")
    if kind == "choice":
        return urlstate.choice(name, value, spec[2])
    if not isinstance(value, (list, tuple)) or len(value) != len(spec[1]):
        raise urlstate.Refused(name, value, f"{len(spec[1])} of: {', '.join(spec[2])}")
    return tuple(urlstate.choice(name, v, spec[2]) for v in value)


def defaults(specs):
    return {name: spec[1] for name, spec in specs.items()}


def restore(specs, state, prefix=""):
    """(settings, notices): the defaults with every valid entry of `state` (anything a URL held) applied, and an
    (i18n key, values) notice for each entry refused (names shown as prefix + name). Never raises."""
    checks = {name: (lambda n, v, spec=spec: check(spec, v, prefix + n)) for name, spec in specs.items()}
    return urlstate.restore_fields(state, checks, defaults(specs))


def changed(specs, settings):
    """The settings that differ from the defaults, as JSON-able data (a link carries only what was changed)."""
    return {name: list(v) if isinstance(v, tuple) else v for name, v in settings.items() if v != specs[name][1]}
