"""Side-by-side training runs for the learning labs (losses, optimizers, regularization): several lanes, each a
model with its params, optimizer and loss over its own training images, stepped in turn a few batches per tick.

    race = Race({"Adam": lane(model, params, optimizers.get("adam"), x, y), ...}, images=6000, batch_size=32)
    race.start()
    while race.status == "running":
        race.step(max_batches=8)           # the page calls this from a periodic callback (ticking below)
    race.pause(); race.resume(); race.stop()

States: ready -> running <-> paused; running -> done (every lane has seen `images` images or stopped) or stopped
(the user). A lane draws its batch order from its seed alone (dropout draws from a second generator), so lanes
over the same images see the same batches in the same order: their curves differ only by what the lab varies.
Each batch is core.step.train_step; a lane whose loss diverges (core.step's rule) stops with core's message and
keeps its last good params while the others go on. Nothing here computes numerics of its own.
"""
import asyncio
import time
import types

import numpy as np
import panel as pn

from core import losses, step
from . import studio

LOG_EVERY = 5                   # batches per point of a lane's training-loss curve


def lane(model, params, optimizer, x, y, loss="categorical_crossentropy", seed=0, evals=None, **loss_kwargs):
    """One run: model, starting params, a core optimizer object, training images x (N, *input_shape) with int
    labels y (N,), a loss by name (focal's gamma/alpha as loss_kwargs), the seed of its batch order and dropout,
    and evals {name: (x, y)} measured (loss, accuracy; dropout off) every eval_every images and at the end."""
    if len(x) != len(y) or not len(y):
        raise ValueError(f"lane: {len(x)} images and {len(y)} labels; give the same number, at least one")
    return {"model": model, "params": params, "before": params, "optimizer": optimizer,
            "opt_state": optimizer.init(model.trainable_params(params)),       # frozen layers get no state
            "loss_fn": losses.get(loss, **loss_kwargs), "x": x, "y": y,
            "order_rng": np.random.default_rng(seed), "rng": np.random.default_rng([seed, 1]), "order": None,
            "at": 0, "images": 0, "limit": None, "status": "running", "message": None, "evals": evals or {},
            "curve": {"images": [], "loss": []}, "interval": [0.0, 0, 0],
            "scores": {name: {"images": [], "loss": [], "accuracy": []} for name in (evals or {})}}


class Race:
    """Lanes {label: lane(...)} trained side by side for `images` images each, in batches of batch_size; every
    eval_every images (None: only at the end) each lane's evals are measured."""

    def __init__(self, lanes, images, batch_size=32, eval_every=None):
        for name, value, lo in (("images", images, 1), ("batch_size", batch_size, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
                raise ValueError(f"{name} must be a whole number >= {lo}, got {value!r}")
        if not lanes:
            raise ValueError("a race needs at least one lane")
        self.lanes, self.images, self.batch_size = dict(lanes), int(images), int(batch_size)
        self.eval_every = eval_every
        self.status, self.seconds, self.batches = "ready", 0.0, 0

    # ---------------------------------------------------------------- the state machine

    def start(self):
        if self.status != "ready":
            raise ValueError(f"this race is {self.status}; set up a new one to run again")
        self.status = "running"

    def pause(self):
        if self.status != "running":
            raise ValueError(f"cannot pause: the race is {self.status}")
        self.status = "paused"

    def resume(self):
        if self.status != "paused":
            raise ValueError(f"cannot resume: the race is {self.status}")
        self.status = "running"

    def stop(self):
        if self.status not in ("running", "paused"):
            raise ValueError(f"cannot stop: the race is {self.status}")
        self._finish("stopped")

    def step(self, max_batches=1):
        """Train up to max_batches batches, one per running lane in turn. Returns the number trained."""
        done = 0
        while done < max_batches and self.status == "running":
            running = [ln for ln in self.lanes.values() if ln["status"] == "running"]
            if not running:
                self._finish("done")
                break
            for ln in running:
                t0 = time.perf_counter()
                self._train_batch(ln)
                self.seconds += time.perf_counter() - t0
                self.batches += 1
                done += 1
        return done

    @property
    def progress(self):
        """Fraction of all lanes' images trained (a stopped or diverged lane counts as finished)."""
        lanes = self.lanes.values()
        return sum(self.images if ln["status"] != "running" else ln["images"] for ln in lanes) / (
            self.images * len(self.lanes))

    @property
    def images_per_second(self):
        return sum(ln["images"] for ln in self.lanes.values()) / self.seconds if self.seconds else 0.0

    def batches_per_tick(self):
        """About studio.TICK_S of training at the speed measured so far (one round of lanes to start)."""
        if not self.seconds:
            return len(self.lanes)
        return max(1, int(studio.TICK_S * self.batches / self.seconds))

    # ---------------------------------------------------------------- one lane

    def _batch(self, ln):
        """The next batch's indices: the rest of this epoch's order, at most batch_size, at most what is left."""
        if ln["order"] is None or ln["at"] >= len(ln["order"]):
            ln["order"], ln["at"] = ln["order_rng"].permutation(len(ln["y"])), 0
        size = min(self.batch_size, self.images - ln["images"])
        idx = ln["order"][ln["at"]:ln["at"] + size]
        ln["at"] += len(idx)
        return idx

    def _train_batch(self, ln):
        idx = self._batch(ln)
        try:
            params, ln["opt_state"], batch = step.train_step(ln["model"], ln["optimizer"], ln["loss_fn"],
                                                             ln["params"], ln["opt_state"], ln["x"][idx],
                                                             ln["y"][idx], ln["rng"], ln["limit"])
        except step.Diverged as e:
            ln["status"] = "diverged"
            ln["message"] = e.message(f"{ln['images'] + len(idx):,} images")
            self._log(ln)
            return
        ln["before"], ln["params"] = ln["params"], params
        ln["limit"] = step.loss_limit(batch["loss"], ln["limit"])
        ln["images"] += batch["count"]
        iv = ln["interval"]
        iv[0] += batch["loss"] * batch["count"]
        iv[1] += batch["count"]
        iv[2] += 1
        if iv[2] >= LOG_EVERY:
            self._log(ln)
        every = self.eval_every
        if every and ln["images"] // every > (ln["images"] - batch["count"]) // every:
            self._evaluate(ln)
        if ln["images"] >= self.images:
            ln["status"] = "done"
            self._log(ln)
            self._evaluate(ln)

    def _log(self, ln):
        total, count, _ = ln["interval"]
        if count:
            ln["curve"]["images"].append(ln["images"])
            ln["curve"]["loss"].append(total / count)
        ln["interval"] = [0.0, 0, 0]

    def _evaluate(self, ln):
        """Measure the lane's evals at its current image count, once per count (dropout off)."""
        with np.errstate(all="ignore"):
            for name, (x, y) in ln["evals"].items():
                s = ln["scores"][name]
                if s["images"][-1:] == [ln["images"]]:
                    continue
                loss, acc = ln["model"].evaluate(ln["params"], x, y, loss=ln["loss_fn"])
                s["images"].append(ln["images"])
                s["loss"].append(float(loss))
                s["accuracy"].append(float(acc))

    def _finish(self, status):
        for ln in self.lanes.values():
            if ln["status"] == "running":
                ln["status"] = "stopped"
                self._log(ln)
                if ln["images"]:
                    self._evaluate(ln)
        self.status = status


def act(current, method, make):
    """A run button on a lab's race -> the race now current: "start" (a new race from make(); refused while one is
    running or paused), "pause", "resume" or "stop" (refused before any race). ValueError says why not."""
    if method == "start":
        if current is not None and current.status in ("running", "paused"):
            raise ValueError("a race is in progress; stop it before starting another")
        current = make()
    elif current is None:
        raise ValueError(f"cannot {method}: nothing has started yet")
    getattr(current, method)()
    return current


def start_ticking(owner, tick):
    """Run tick() every studio.TICK_MS from Panel's periodic callback, kept in owner.callback (studio.stop_ticking
    ends it), unless one runs already or owner.autorun is off (tests tick by hand). The sleep hands the event
    loop a turn after each tick, as the studio's does: under Pyodide a tick longer than the period would
    otherwise starve the worker's message loop, and Pause would wait for the end of the run."""
    async def tick_and_yield():
        tick()
        await asyncio.sleep(studio.YIELD_S)

    if owner.autorun and owner.callback is None:
        owner.callback = pn.state.add_periodic_callback(tick_and_yield, period=studio.TICK_MS)


BUTTONS = ("start", "pause", "resume", "stop")


def controls_view(t, css, act):
    """Start / Pause / Resume / Stop (act(method) on a click), a progress bar and the status line of a race;
    refresh(race) shows a race (None: none yet)."""
    w = {m: pn.widgets.Button(label=t(m), css_classes=[f"{css}-{m}"], width=90,
                              color="primary" if m == "start" else "default") for m in BUTTONS}
    progress = pn.indicators.Progress(value=0, max=1000, width=320, css_classes=[f"{css}-progress"])
    status = pn.pane.HTML("", css_classes=[f"{css}-status"])
    for method, button in w.items():
        button.on_click(lambda _, method=method: act(method))

    def refresh(rc):
        state = rc.status if rc is not None else "ready"
        w["start"].disabled = state in ("running", "paused")
        w["pause"].disabled = state != "running"
        w["resume"].disabled = state != "paused"
        w["stop"].disabled = state not in ("running", "paused")
        progress.value = round(1000 * rc.progress) if rc is not None else 0
        seen = max(ln["images"] for ln in rc.lanes.values()) if rc is not None else 0
        status.object = t("race_status", status=t("status_" + state), images=seen,
                          total=rc.images if rc is not None else 0, ips=rc.images_per_second if rc else 0.0)

    return types.SimpleNamespace(panel=pn.Column(pn.Row(*w.values()), progress, status), refresh=refresh,
                                 widgets=w, status=status)
