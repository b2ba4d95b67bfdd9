"""The studio's training controller: a small state machine over core, stepped a few batches at a time.

    trainer = Trainer(load_data())                 # MNIST subset: uint8 digits and int labels
    trainer.configure(optimizer="adam", learning_rate=1e-3, batch_size=32, epochs=3)
    trainer.start()
    while trainer.status == "running":
        trainer.step(max_batches=8)                # the page calls this from a periodic callback
    trainer.pause(); trainer.resume(); trainer.stop(); trainer.reset()

States: ready -> running <-> paused; running -> done (all epochs), stopped (the user), diverged (core.step's rule:
a NaN/inf loss, or one DIVERGE_FACTOR = 1000 times the run's first; the last good params are restored). start() from
ready/stopped/done/diverged trains `epochs` more epochs from the current params; reset() draws fresh weights.
Nothing here computes numerics of its own: each batch is core.step.train_step, and the model, losses, optimizers,
data subsets and metrics are core's. Bad input raises ValueError and leaves every field unchanged.
"""
import io
import math
import time

import numpy as np

from core import datasets, losses, metrics, models, optimizers, step
from . import studio_arch

# The optimizers the page offers (core's names) and which of the page's settings each one takes.
OPTIMIZER_SETTINGS = {"sgd": (), "momentum": ("momentum",), "nesterov": ("momentum",), "adagrad": (),
                      "rmsprop": ("rho",), "adam": ("beta_1", "beta_2")}
OPTIMIZERS = tuple(OPTIMIZER_SETTINGS)
LOSSES = ("categorical_crossentropy", "mse", "focal")
DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 0.001, "adam": 0.001}
MINORITY = (5, 6, 7, 8, 9)      # the imbalanced option keeps KEEP of these digits' training examples
KEEP = 0.1
VAL_SIZE = 500                  # test images checked during training (all of them at the end of each epoch)
LOG_EVERY = 10                  # batches per point of the training curve

# Batch 64 with Adam at 2e-3 reaches 97% on the shipped test subset in 3 epochs (30k images), inside the
# browser's 60 s at ~1,200 images/s; batch 32 at Keras' 1e-3 needs about 4.
DEFAULTS = {
    "architecture": studio_arch.lenet5_text(),
    "loss": "categorical_crossentropy", "gamma": 2.0, "alpha": None,
    "optimizer": "adam", "learning_rate": 2e-3, "momentum": 0.9, "rho": 0.9, "beta_1": 0.9, "beta_2": 0.999,
    "batch_size": 64, "epochs": 4, "train_size": 10_000, "dropout": 0.0, "imbalanced": False, "seed": 0,
    "eval_every": 50,
}


def load_data(dataset="mnist", data_dir=None):
    """The class-balanced subset the site ships: dict x_train/x_test uint8 (N, 28, 28), y_train/y_test int64 (N,)."""
    (x, y), (xt, yt) = datasets.load_subset(dataset, data_dir)
    return {"x_train": x, "y_train": y.astype(np.int64), "x_test": xt, "y_test": yt.astype(np.int64)}


def make_optimizer(cfg):
    """The core optimizer the config names, with the settings the page shows for it."""
    name = cfg["optimizer"]
    return optimizers.get(name, learning_rate=cfg["learning_rate"], **{k: cfg[k] for k in OPTIMIZER_SETTINGS[name]})


def loss_kwargs(cfg):
    return {"gamma": cfg["gamma"], "alpha": cfg["alpha"]} if cfg["loss"] == "focal" else {}


def _number(cfg, key, lo, hi, integer=False, lo_open=False):
    v = cfg[key]
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise ValueError(f"{key} must be a number, got {v!r}")
    if integer and int(v) != v:
        raise ValueError(f"{key} must be a whole number, got {v}")
    if not math.isfinite(v) or v < lo or v > hi or (lo_open and v == lo):
        raise ValueError(f"{key} must be in {'(' if lo_open else '['}{lo}, {hi}], got {v}")


def check_config(cfg, n_train):
    """Raise ValueError naming the field if a setting is out of range; core checks the rest when it builds."""
    unknown = sorted(set(cfg) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(unknown)}")
    if cfg["optimizer"] not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {cfg['optimizer']!r}")
    if cfg["loss"] not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {cfg['loss']!r}")
    _number(cfg, "learning_rate", 0, 1e6, lo_open=True)
    for key in ("momentum", "rho", "beta_1", "beta_2"):
        _number(cfg, key, 0, 0.9999)
    _number(cfg, "gamma", 0, 10)
    if cfg["alpha"] is not None:
        _number(cfg, "alpha", 0, 1, lo_open=True)
    _number(cfg, "batch_size", 1, 4096, integer=True)
    _number(cfg, "epochs", 1, 1000, integer=True)
    _number(cfg, "train_size", 10, n_train, integer=True)
    _number(cfg, "dropout", 0, 0.95)
    _number(cfg, "seed", 0, 2**32 - 1, integer=True)
    _number(cfg, "eval_every", 1, 10**6, integer=True)


class Trainer:
    """One model being trained on one data set; the page reads its fields and calls its methods."""

    def __init__(self, data, **settings):
        self.data = data
        self.x_test = datasets.pad_to_32(data["x_test"])
        self.y_test = np.asarray(data["y_test"], np.int64)
        # A fixed, class-balanced slice of the test set for the checks during training (cheap, same every time).
        self.val_idx = np.sort(np.concatenate([np.flatnonzero(self.y_test == c)[:VAL_SIZE // 10]
                                               for c in range(10)]))
        self.config = dict(DEFAULTS)
        self.config["train_size"] = min(DEFAULTS["train_size"], len(data["y_train"]))
        self.model = None
        self.message = None            # (kind, i18n key, values) for the page: kind "info" | "error"
        self.configure(**settings)

    # ---------------------------------------------------------------- settings

    def configure(self, **settings):
        """Change settings (see DEFAULTS). A new architecture or seed redraws the weights (and clears the curves).
        ValueError, with nothing changed, if a setting is bad or the run is in progress (pause or stop first)."""
        if self.model is not None and self.status in ("running", "paused") and settings:
            raise ValueError("stop training before changing the settings")
        cfg = dict(self.config)
        cfg.update(settings)
        check_config(cfg, len(self.data["y_train"]))
        make_optimizer(cfg)                                     # core says if a hyperparameter is out of range
        rebuild = self.model is None or any(cfg[k] != self.config[k] for k in ("architecture", "dropout", "seed"))
        model = studio_arch.parse(cfg["architecture"], cfg["dropout"]) if rebuild else self.model
        self.config = cfg
        if rebuild:
            self.model = model
            self.reset()

    @property
    def layer_table(self):
        return self.model.layer_table()

    def reset(self):
        """Fresh weights from the seed, empty curves, state ready."""
        self.params = self.model.init(seed=int(self.config["seed"]))
        self.history = {"train": {"images": [], "loss": [], "accuracy": []},
                        "val": {"images": [], "loss": [], "accuracy": []}}
        self.images_seen = 0
        self.epochs_done = 0
        self.status = "ready"
        self.message = None
        self.run = None
        self.test_result = None
        self.last_good = self.params

    # ---------------------------------------------------------------- the state machine

    def start(self):
        """Begin a run of config['epochs'] epochs from the current params (fresh optimizer state)."""
        if self.status in ("running", "paused"):
            raise ValueError(f"training is already {self.status}")
        cfg = self.config
        x, y = self.training_set()
        opt = make_optimizer(cfg)
        self.run = {"x": datasets.pad_to_32(x), "y": y, "opt": opt, "opt_state": opt.init(self.params),
                    "loss_fn": losses.get(cfg["loss"], **loss_kwargs(cfg)),
                    "rng": np.random.default_rng(int(cfg["seed"]) + self.epochs_done),
                    "epoch": 0, "batch": 0, "order": None, "batches_since_eval": 0,
                    "interval": {"loss": 0.0, "correct": 0, "seen": 0, "batches": 0},
                    "seconds": 0.0, "trained": 0, "limit": None}
        self.status, self.message = "running", None
        self.test_result = None

    def training_set(self):
        """uint8 digits and labels for this run: a class-balanced train_size subset, made imbalanced if asked."""
        cfg, d = self.config, self.data
        x, y = d["x_train"], d["y_train"]
        if cfg["train_size"] < len(y):
            x, y = datasets.class_balanced_subset(x, y, int(cfg["train_size"]), seed=int(cfg["seed"]))
        if cfg["imbalanced"]:
            x, y = datasets.imbalanced_subset(x, y, MINORITY, KEEP, seed=int(cfg["seed"]))
        return x, np.asarray(y, np.int64)

    def pause(self):
        if self.status != "running":
            raise ValueError(f"cannot pause: training is {self.status}")
        self.status = "paused"

    def resume(self):
        if self.status != "paused":
            raise ValueError(f"cannot resume: training is {self.status}")
        self.status = "running"

    def stop(self):
        """End the run; the weights trained so far are kept (save them, draw digits, or start again)."""
        if self.status not in ("running", "paused"):
            raise ValueError(f"cannot stop: training is {self.status}")
        self._finish("stopped")

    def step(self, max_batches=1):
        """Train up to max_batches batches (fewer at the end of the run). Returns the number trained.

        Every LOG_EVERY batches adds a point to the training curve; every eval_every batches, and at the end of
        each epoch, a validation point. A NaN/inf loss restores the last good params and ends the run."""
        if self.status != "running":
            return 0
        run, cfg = self.run, self.config
        bs, n = int(cfg["batch_size"]), len(run["y"])
        steps = math.ceil(n / bs)
        done = 0
        while done < max_batches and self.status == "running":
            if run["order"] is None:
                run["order"] = run["rng"].permutation(n)
            idx = run["order"][run["batch"] * bs:(run["batch"] + 1) * bs]
            if not self._train_batch(run["x"][idx], run["y"][idx]):
                return done
            done += 1
            run["batch"] += 1
            run["batches_since_eval"] += 1
            if run["interval"]["batches"] >= LOG_EVERY:
                self._log_train()
            if run["batch"] == steps:                                 # end of an epoch
                run["epoch"] += 1
                self.epochs_done += 1
                run["batch"], run["order"] = 0, None
                self._log_train()
                self._validate(full=True)
                if run["epoch"] >= cfg["epochs"]:
                    self._finish("done")
            elif run["batches_since_eval"] >= cfg["eval_every"]:
                self._validate()
        return done

    def _train_batch(self, xb, yb):
        """One core.step.train_step; False (the run has ended, the last good params restored) if the loss diverged."""
        run = self.run
        t0 = time.perf_counter()
        try:
            params, run["opt_state"], batch = step.train_step(self.model, run["opt"], run["loss_fn"], self.params,
                                                              run["opt_state"], xb, yb, run["rng"], run["limit"])
        except step.Diverged as e:
            self._diverged(e.loss, e.gradient)
            return False
        self.last_good, self.params = self.params, params           # the old params' loss passed the check
        run["limit"] = step.loss_limit(batch["loss"], run["limit"])
        run["seconds"] += time.perf_counter() - t0
        run["trained"] += batch["count"]
        self.images_seen += batch["count"]
        iv = run["interval"]
        iv["loss"] += batch["loss"] * batch["count"]
        iv["correct"] += batch["correct"]
        iv["seen"] += batch["count"]
        iv["batches"] += 1
        return True

    def _diverged(self, value, gradient=None):
        # A loss that broke the rule condemns the params it was computed at: back to the ones before. A NaN/inf
        # gradient comes with a loss that passed, so the current params are the last good ones and stay.
        if gradient is None:
            self.params = self.last_good
        else:
            self.last_good = self.params
        self._log_train()
        self._finish("diverged", validate=False)
        values = {"loss": value, "images": self.images_seen, "optimizer": self.config["optimizer"],
                  "lr": self.config["learning_rate"]}
        if gradient is not None:          # the loss was finite, a gradient was not (core.step names the weight)
            self.message = ("error", "msg_nonfinite_grad", dict(values, weight=gradient))
        else:
            self.message = ("error", "msg_diverged" if math.isfinite(value) else "msg_nonfinite", values)

    def _finish(self, status, validate=True):
        run = self.run
        # The last update's params are only "good" once shown finite.
        if not step.all_finite(self.params):
            self.params = self.last_good
        if run is not None and run["interval"]["seen"]:
            self._log_train()
        if validate and run is not None and run["batches_since_eval"]:
            self._validate(full=True)
        self.status = status
        self.message = ("info", f"msg_{status}", {"images": self.images_seen, "epochs": self.epochs_done})

    def _log_train(self):
        iv = self.run["interval"]
        if not iv["seen"]:
            return
        h = self.history["train"]
        h["images"].append(self.images_seen)
        h["loss"].append(iv["loss"] / iv["seen"])
        h["accuracy"].append(iv["correct"] / iv["seen"])
        self.run["interval"] = {"loss": 0.0, "correct": 0, "seen": 0, "batches": 0}

    def _validate(self, full=False):
        """A validation point: the fixed slice during an epoch, the whole test subset at its end (with the
        confusion matrix)."""
        self.run["batches_since_eval"] = 0
        if full:
            self.test_result = self.evaluate_test()
            loss, acc = self.test_result["loss"], self.test_result["accuracy"]
        else:
            x, y = self.x_test[self.val_idx], self.y_test[self.val_idx]
            with np.errstate(all="ignore"):
                loss, acc = self.model.evaluate(self.params, x, y, loss=self.run["loss_fn"])
        h = self.history["val"]
        h["images"].append(self.images_seen)
        h["loss"].append(float(loss))
        h["accuracy"].append(float(acc))

    # ---------------------------------------------------------------- what the page shows

    @property
    def images_per_second(self):
        run = self.run
        return run["trained"] / run["seconds"] if run and run["seconds"] > 0 else 0.0

    @property
    def progress(self):
        """Fraction of this run's batches done (0 before a run)."""
        run = self.run
        if run is None:
            return 0.0
        steps = math.ceil(len(run["y"]) / int(self.config["batch_size"]))
        total = steps * int(self.config["epochs"])
        return min(1.0, (run["epoch"] * steps + run["batch"]) / total)

    def evaluate_test(self):
        """The whole test subset: loss, accuracy, predictions, confusion matrix (10x10), misclassified indices."""
        loss_fn = losses.get(self.config["loss"], **loss_kwargs(self.config))
        with np.errstate(all="ignore"):
            logits = self.model.predict(self.params, self.x_test)
            loss = float(loss_fn(logits, self.y_test)[0])
        pred = logits.argmax(axis=1)
        return {"loss": loss, "accuracy": metrics.accuracy(self.y_test, pred), "pred": pred,
                "confusion": metrics.confusion_matrix(self.y_test, pred, 10),
                "misclassified": metrics.misclassified(self.y_test, pred)}

    def predict(self, x):
        """Class probabilities (N, 10) and every layer's activations for x (N, 32, 32, 1)."""
        acts = self.model.apply(self.params, x, return_activations=True)
        return metrics.softmax(acts[self.model.layers[-1].name]), acts

    def first_conv_kernel(self):
        """(name, kernel (h, w, C, F)) of the first Conv2D layer, or None if the stack has none."""
        for layer in self.model.layers:
            if layer.kind == "Conv2D":
                return layer.name, self.params[layer.name]["kernel"]
        return None

    # ---------------------------------------------------------------- weights files

    def save_bytes(self):
        """The model and its current params as the core's .npz, in memory (for a download)."""
        buf = io.BytesIO()
        models.save(buf, self.model, self.params)
        return buf.getvalue()

    def load_bytes(self, data, name="weights.npz"):
        """Replace model and params with a weights file's (from the studio, core.train or the JAX scripts).

        ValueError, and nothing else, saying what is wrong (corrupt, not ours, crafted, wrong input/output shape,
        values beyond float32, run in progress), with the current model and params kept: models.load turns
        everything a file can do wrong into ValueError, and what is checked here does too."""
        if self.status == "running":
            raise ValueError("pause or stop training before loading weights")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValueError(f"{name!r}: expected the file's bytes, got {type(data).__name__}")
        try:
            model, params = models.load(bytes(data))
        except ValueError as e:
            raise ValueError(str(e).replace("'<bytes>'", repr(name))) from None
        if model.input_shape != studio_arch.INPUT_SHAPE or model.output_shape != (studio_arch.CLASSES,):
            raise ValueError(f"{name!r} holds a model for input {model.input_shape} and output {model.output_shape}; "
                             f"the studio needs input {studio_arch.INPUT_SHAPE} (MNIST padded to 32x32) and "
                             f"{studio_arch.CLASSES} class scores")
        text = studio_arch.format_model(model)                    # refuses graphs the editor cannot show
        try:
            studio_arch.parse(text)                               # and stacks larger than the studio trains
        except ValueError as e:
            raise ValueError(f"{name!r}: {e}") from None
        for k, v in params.items():                               # float64 1e300 would become inf as float32
            for w, a in v.items():
                if np.abs(a).max(initial=0) > np.finfo(np.float32).max:
                    raise ValueError(f"{name!r}: {k}/{w} holds values beyond float32's range (|x| > 3.4e38)")
        params = {k: {w: np.asarray(a, np.float32) for w, a in v.items()} for k, v in params.items()}
        self.config = dict(self.config, architecture=text, dropout=0.0)
        self.model = model
        self.reset()
        self.params = self.last_good = params
        self.message = ("info", "msg_loaded", {"name": name, "params": model.count_params()})
