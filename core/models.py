"""Models: a graph of layers (Functional API) with Sequential as the straight-line case, LeNet-5, fit, save/load.

    model = models.lenet5()
    params = model.init(seed=0)                                   # {layer_name: {"kernel", "bias"}}
    logits = model.apply(params, x)                               # x (N, 32, 32, 1) -> (N, 10)
    loss, grads = model.value_and_grad(params, x, y, loss="categorical_crossentropy")
    history = model.fit(x, y, epochs=1, batch_size=64, optimizer="adam", validation_data=(xv, yv))
"""
import json
import math

import numpy as np

from . import layers as L
from . import files, losses, metrics, optimizers, step

FORMAT = "cnn-playground-weights/1"


class NonFiniteLossError(FloatingPointError):
    """Training diverged: a NaN/inf loss, or one grown past core.step's limit. `.params` holds the last good params
    (those whose loss passed the check)."""

    def __init__(self, message, params, history):
        super().__init__(message)
        self.params, self.history = params, history


class History:
    """What fit returns: `.history` (Keras' dict of per-epoch lists) and the trained `.params`. Its keys say what
    was measured: "loss" always; "accuracy" for classes; "pixel_accuracy" and "mean_iou" for a class per pixel;
    nothing more for a regression (metrics.summarize); "val_" + each with validation data."""

    def __init__(self):
        self.history = {"loss": []}
        self.params = None


def _snake(kind):
    out = "".join("_" + ch.lower() if ch.isupper() else ch for ch in kind).lstrip("_")
    return out.replace("2_d", "2d")


class Model:
    """A directed acyclic graph of layers from one Input to one output tensor (Keras' Functional API).

        inputs = layers.Input((28, 28, 1))
        a = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
        b = layers.Conv2D(8, 5, padding="same", activation="relu")(inputs)
        x = layers.Flatten()(layers.Concatenate()([a, b]))
        model = models.Model(inputs, layers.Dense(10)(x))
    """

    kind = "Model"

    def __init__(self, inputs, outputs, name="model"):
        if not isinstance(inputs, L.Node) or not isinstance(inputs.layer, L.InputLayer):
            raise ValueError("Model: inputs must be the tensor returned by layers.Input(shape)")
        if not isinstance(outputs, L.Node):
            raise ValueError("Model: outputs must be a tensor made by calling layers on the input")
        if not isinstance(name, str) or not name:
            raise ValueError(f"Model: name must be a non-empty string, got {name!r:.40}")
        self.name = name
        self.params = None          # fit() keeps the latest (finite) params here, Keras-style
        self.stop_training = False  # a callback may set this to end fit() after the current batch
        self.nodes = self._topological(inputs, outputs)
        self._name_layers()
        self.index = {id(n): i for i, n in enumerate(self.nodes)}
        # For each node: positions of its input nodes; consumers tell the backward pass where gradients go.
        self.inputs_of = [[self.index[id(p)] for p in n.inputs] for n in self.nodes]

    @staticmethod
    def _topological(inputs, outputs):
        order, seen = [], set()

        def visit(node, stack):
            if id(node) in seen:
                return
            if id(node) in stack:
                raise ValueError("Model: the layer graph has a cycle")
            for p in node.inputs:
                visit(p, stack | {id(node)})
            seen.add(id(node))
            order.append(node)

        visit(outputs, frozenset())
        if order[0] is not inputs:
            raise ValueError("Model: outputs are not computed from the given inputs")
        others = [n for n in order[1:] if isinstance(n.layer, L.InputLayer)]
        if others:
            # the forward pass feeds one input; another would have nothing to read (an IndexError deep inside)
            raise ValueError(f"Model: the outputs also read Input "
                             f"{', '.join(repr(n.layer.name or 'unnamed') for n in others)} besides the given "
                             f"inputs; a model has one input, from which every layer must be reached")
        if len(order) == 1:
            raise ValueError("Model: outputs are the inputs themselves; add at least one layer")
        return order

    def _name_layers(self):
        taken = {n.layer.name for n in self.nodes if n.layer.name}
        counts = {}
        for n in self.nodes:
            if n.layer.name:
                continue
            base = "input" if isinstance(n.layer, L.InputLayer) else _snake(n.layer.kind)
            while True:
                k = counts.get(base, 0)
                counts[base] = k + 1
                name = base if k == 0 else f"{base}_{k}"
                if name not in taken:
                    break
            n.layer.name = name
            taken.add(name)
        names = [n.layer.name for n in self.nodes]
        if len(set(names)) != len(names):
            dup = sorted({x for x in names if names.count(x) > 1})
            raise ValueError(f"Model: layer names must be unique, repeated: {', '.join(dup)}")

    # -- description -----------------------------------------------------------------------------------------
    @property
    def layers(self):
        return [n.layer for n in self.nodes[1:]]

    @property
    def input_shape(self):
        return self.nodes[0].shape

    @property
    def output_shape(self):
        return self.nodes[-1].shape

    def count_params(self):
        return sum(layer.count_params() for layer in self.layers)

    def layer_table(self):
        """One dict per layer: name, kind, output_shape (no batch axis), params, mults (per example), trainable."""
        return [{"name": l.name, "kind": l.kind, "output_shape": tuple(l.output_shape), "params": l.count_params(),
                 "mults": l.mults(), "trainable": l.trainable} for l in self.layers]

    def summary(self, print_fn=print):
        """Print (and return) a Keras-like table of layers, output shapes, parameters and multiplications."""
        rows = [("Layer (type)", "Output shape", "Param #", "Mult #")]
        rows += [(f"{r['name']} ({r['kind']})", str((None,) + r["output_shape"]), f"{r['params']:,}",
                  f"{r['mults']:,}") for r in self.layer_table()]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        line = "-" * (sum(widths) + 6)
        fmt = lambda r: f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}"
        frozen = sum(l.count_params() for l in self.layers if not l.trainable)
        counts = [f"Total params: {self.count_params():,}"]
        if frozen:      # Keras' split, shown once a layer is frozen (trainable=False)
            counts += [f"Trainable params: {self.count_params() - frozen:,}", f"Non-trainable params: {frozen:,}"]
        text = "\n".join([f'Model: "{self.name}"', line, fmt(rows[0]), line, *map(fmt, rows[1:]), line, *counts,
                          f"Multiplications per example: {sum(l.mults() for l in self.layers):,}"])
        if print_fn:
            print_fn(text)
        return text

    # -- parameters ------------------------------------------------------------------------------------------
    def init(self, seed=0):
        """Fresh params {layer_name: {"kernel": ..., "bias": ...}} (Glorot-uniform kernels, zero biases)."""
        rng = np.random.default_rng(seed)
        params = {}
        for layer in self.layers:
            p = layer.init(rng)
            if p:
                params[layer.name] = p
        return params

    def param_shapes(self):
        """{layer_name: {weight: shape}} of this architecture (worked out once, from one init)."""
        if getattr(self, "_param_shapes", None) is None:
            self._param_shapes = {k: {w: a.shape for w, a in v.items()} for k, v in self.init(seed=0).items()}
        return self._param_shapes

    def check_params(self, params, where="params", extra_ok=False):
        """Raise ValueError if params do not fit this architecture (missing/extra layers, weights, shapes, arrays
        that are not numbers). extra_ok=True lets other layers' weights be there too (a decoder_of model reads its
        own from the whole autoencoder's params)."""
        shapes = self.param_shapes()
        # The common case first, in a few microseconds (apply calls this on every batch): all there and fitting.
        if isinstance(params, dict) and (extra_ok or len(params) == len(shapes)):
            try:
                if all(params[n].keys() == ws.keys() and all(params[n][w].shape == s and params[n][w].dtype.kind
                                                             not in "OUSb" for w, s in ws.items())
                       for n, ws in shapes.items()):
                    return
            except (KeyError, AttributeError, TypeError):
                pass                      # something is off: the checks below say what
        if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
            raise ValueError(f"{where} must be a dict {{layer_name: {{weight_name: array}}}} for model "
                             f"'{self.name}', got {type(params).__name__}"
                             + (" holding a non-dict" if isinstance(params, dict) else ""))
        missing = sorted(set(shapes) - set(params))
        extra = [] if extra_ok else sorted(set(params) - set(shapes))
        if missing or extra:
            raise ValueError(f"{where} do not match model '{self.name}': "
                             + (f"missing layers {missing}" if missing else "")
                             + ("; " if missing and extra else "") + (f"unexpected layers {extra}" if extra else ""))
        layers = {l.name: l for l in self.layers}
        for name, want_shapes in shapes.items():
            if set(params[name]) != set(want_shapes):
                raise ValueError(f"{where}: layer '{name}' has weights {sorted(params[name])}, "
                                 f"expected {sorted(want_shapes)}")
            for w, want in want_shapes.items():
                a = params[name][w]
                got = np.shape(a)
                if tuple(got) != want:
                    raise ValueError(f"{where}: {layers[name].kind} '{name}' {w} has shape {tuple(got)}, "
                                     f"expected {want}")
                kind = getattr(getattr(a, "dtype", None), "kind", "O")
                if kind in "OUSb":
                    raise ValueError(f"{where}: {layers[name].kind} '{name}' {w} must be an array of numbers, got "
                                     f"dtype {getattr(a, 'dtype', type(a).__name__)}")

    def trainable_params(self, params):
        """The part of params the optimizer moves: every layer with weights but the frozen ones (trainable=False).
        Optimizer state covers these alone: state = optimizer.init(model.trainable_params(params))."""
        return {l.name: params[l.name] for l in self.layers if l.weights and l.trainable and l.name in params}

    def penalty(self, params):
        """The layers' kernel_regularizer penalties summed (0.0 without any): what Model.loss adds to the loss.
        Trainable layers only (Keras). Array operators only, so the JAX mirror differentiates the same sum."""
        total = 0.0
        for layer in self.layers:
            if layer.kernel_regularizer is not None and layer.trainable:
                total = total + layer.kernel_regularizer(params[layer.name]["kernel"])
        return total

    def loss(self, params, outputs, y, loss_fn):
        """(the loss minimised, dL/d(outputs)): loss_fn(outputs, y) plus the kernel_regularizer penalties (which do
        not depend on the outputs, so dL/d(outputs) is loss_fn's). Model.backward adds the penalties' gradients."""
        value, dout = loss_fn(outputs, y)
        if any(l.kernel_regularizer is not None and l.trainable for l in self.layers):
            value = value + self.penalty(params)
        return value, dout

    def update(self, optimizer, grads, opt_state, params):
        """One optimizer step of the trainable layers -> (new params, new optimizer state); frozen layers' params
        are passed through untouched (the same arrays) and get no optimizer state, as Keras leaves them."""
        stepped, opt_state = optimizer.update(grads, opt_state, self.trainable_params(params))
        return {**params, **stepped}, opt_state

    # -- forward and backward --------------------------------------------------------------------------------
    def _check_input(self, x):
        shape = np.shape(x)
        kind = getattr(getattr(x, "dtype", None), "kind", None) or np.asarray(x).dtype.kind
        if kind not in "biuf":
            raise ValueError(f"model '{self.name}': the input must be numbers (pixels), got dtype "
                             f"{getattr(x, 'dtype', None) or np.asarray(x).dtype}")
        if tuple(shape[1:]) != self.input_shape:
            raise ValueError(f"model '{self.name}' expects input (N, {', '.join(map(str, self.input_shape))}), "
                             f"got shape {tuple(shape)}")
        if shape[0] == 0:   # a mean loss over no images is undefined; say so instead of a reshape error deep inside
            raise ValueError(f"model '{self.name}': the batch is empty (shape {tuple(shape)}); give at least one image")

    def forward(self, params, x, training=False, rng=None):
        """Run every layer; returns (outputs per node, caches per node) for `backward`. Params of other layers
        may be there too (a decoder_of model reads the whole autoencoder's)."""
        self._check_input(x)
        outs, caches = [x], [None]
        try:
            for i in range(1, len(self.nodes)):
                layer = self.nodes[i].layer
                ins = self.inputs_of[i]
                arg = [outs[j] for j in ins] if layer.merges else outs[ins[0]]
                out, cache = layer.forward(params.get(layer.name, {}), arg, training, rng)
                outs.append(out)
                caches.append(cache)
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
            # Checked only when something failed (a check on every call cost 5% of a batch-1 forward pass): params
            # that do not fit get check_params' message, naming the layer, instead of a KeyError deep inside.
            self.check_params(params, extra_ok=True)
            raise
        return outs, caches

    def backward(self, params, dout, caches, keep_grads=False):
        """Gradients of every layer's params given dout = dL/d(output) (N, *output_shape); branches' gradients
        are summed, and each kernel_regularizer's gradient is added (the penalty Model.loss adds to the loss).
        Returns grads, a tree like params without the frozen layers (trainable=False).

        keep_grads=True also keeps dL/d(every node's output), the tensors the chain rule passes from the output back
        to the input, and returns (grads, node_grads): node_grads {layer_name: array of that node's output shape}
        in node order, starting with the input's ("input": dL/dx, which is otherwise never computed)."""
        douts = [None] * len(self.nodes)
        douts[-1] = dout
        grads, kept = {}, {}
        for i in range(len(self.nodes) - 1, 0, -1):
            if douts[i] is None:
                continue        # a node nothing downstream uses
            layer = self.nodes[i].layer
            ins = self.inputs_of[i]
            need_dx = keep_grads or any(j != 0 for j in ins)   # nobody needs dL/d(input image) to train
            if layer.trainable or need_dx:
                dx, g = layer.backward(params.get(layer.name, {}), douts[i], caches[i], need_dx)
            else:
                dx, g = None, {}                  # a frozen first layer: nothing to compute at all
            if not layer.trainable:
                g = {}                            # frozen (trainable=False): no grads, so no update
            elif layer.kernel_regularizer is not None:     # the penalty Model.loss added, differentiated
                g = {**g, "kernel": g["kernel"] + layer.kernel_regularizer.gradient(params[layer.name]["kernel"])}
            if keep_grads:
                kept[i] = douts[i]
            douts[i] = caches[i] = None           # free memory as we go
            if g:
                grads[layer.name] = g
            for j, d in zip(ins, dx if layer.merges else [dx]):
                if d is None or (j == 0 and not keep_grads):
                    continue
                douts[j] = d if douts[j] is None else douts[j] + d
        if not keep_grads:
            return grads
        kept[0] = douts[0]
        return grads, {n.layer.name: kept[i] for i, n in enumerate(self.nodes) if kept.get(i) is not None}

    def apply(self, params, x, training=False, return_activations=False, rng=None):
        """x (N, *input_shape) -> output (N, *output_shape); with return_activations, a dict of every layer's output
        ({"input": x, layer_name: output, ...}, in order) for feature-map views. Params of other layers may be
        there too (a decoder_of model reads the whole autoencoder's)."""
        outs, _ = self.forward(params, x, training, rng)
        if return_activations:
            return {n.layer.name: o for n, o in zip(self.nodes, outs)}
        return outs[-1]

    def value_and_grad(self, params, x, y, loss="categorical_crossentropy", training=False, rng=None,
                       return_activation_grads=False, **loss_kwargs):
        """(loss, grads) for a batch x (N, ...) with labels y (N,) ints or (N, K) one-hot; grads has params' tree.
        The loss includes the layers' kernel_regularizer penalties (Model.loss), the grads their gradients.

        training=True turns dropout on (then pass rng); the default keeps it deterministic.
        return_activation_grads=True returns (loss, grads, activation_grads): dL/d(every layer's output)
        {layer_name: array (N, *that layer's output shape)} in node order, "input" (dL/dx) first, as
        backward(keep_grads=True) gives them (the backward-pass explorer's tensors)."""
        loss_fn = losses.get(loss, **loss_kwargs)
        self.check_params(params, extra_ok=True)     # a few microseconds, next to a forward and a backward pass
        outs, caches = self.forward(params, x, training, rng)
        value, dout = self.loss(params, outs[-1], y, loss_fn)
        if return_activation_grads:
            return (value, *self.backward(params, dout, caches, keep_grads=True))
        return value, self.backward(params, dout, caches)

    def _check_batches(self, where, x, batch_size, y=None):
        """x (and y) as arrays, checked before any work: numbers of the input's shape, not empty, as many labels as
        inputs, batch_size a positive int. ValueError naming `where` and the argument."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"{where}: batch_size must be a positive int, got {batch_size!r:.40}")
        x = np.asarray(x)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"{where}: x is empty (shape {x.shape}); give at least one image")
        self._check_input(x[:1])
        if y is None:
            return x
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != len(x):
            raise ValueError(f"{where}: {len(x)} inputs but {len(y) if y.ndim else 'a scalar of'} labels (y of "
                             f"shape {y.shape})")
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{where}: labels y must be numbers (class ids, one-hot rows or targets), got dtype "
                             f"{y.dtype}, e.g. {y.reshape(-1)[0]!r:.40}")
        out = tuple(self.output_shape)
        if y.shape[1:] not in (out[:-1], out):
            shape = lambda t: "(" + ", ".join(["N", *map(str, t)]) + ("," if not t else "") + ")"
            raise ValueError(f"{where}: labels y of shape {y.shape} do not fit outputs {shape(out)}: give class ids "
                             f"{shape(out[:-1])} or one-hot / targets {shape(out)}")
        return x, y

    def predict(self, params, x, batch_size=256):
        """Outputs for x in batches (no dropout)."""
        x = self._check_batches("predict", x, batch_size)
        self.check_params(params, extra_ok=True)
        return np.concatenate([self.apply(params, x[i:i + batch_size]) for i in range(0, len(x), batch_size)])

    def evaluate(self, params, x, y, loss="categorical_crossentropy", batch_size=256, return_dict=False,
                 **loss_kwargs):
        """The mean loss (with the kernel_regularizer penalties, as Keras reports it) and what
        metrics.target_kind says can be measured, over x, y in batches (no dropout).

        y: labels (N,) or one-hot (N, K) -> (loss, accuracy); masks (N, H, W) or one-hot (N, H, W, K) for
        per-pixel outputs (N, H, W, K) -> (loss, pixel_accuracy, mean_iou); a regression target of the outputs'
        shape -> the loss alone (a float), as Keras gives [loss, *metrics]. return_dict=True: {"loss", ...} with
        the names fit's History uses."""
        loss_fn = losses.get(loss, **loss_kwargs)
        x, y = self._check_batches("evaluate", x, batch_size, y)
        self.check_params(params)
        kind = metrics.target_kind(y, self.output_shape)
        total, counts = 0.0, {}
        for i in range(0, len(x), batch_size):
            out = self.apply(params, x[i:i + batch_size])
            total += float(loss_fn(out, y[i:i + batch_size])[0]) * len(out)
            counts = metrics.add_counts(counts, metrics.batch_counts(y[i:i + batch_size], out, kind))
        result = {"loss": total / len(x) + float(self.penalty(params)), **metrics.summarize(counts)}
        if return_dict:
            return result
        return tuple(result.values()) if len(result) > 1 else result["loss"]

    def fit(self, x, y, epochs=1, batch_size=32, optimizer="adam", loss="categorical_crossentropy",
            validation_data=None, callbacks=(), params=None, seed=0, shuffle=True, **loss_kwargs):
        """Train with shuffled mini-batches; returns a History (per-epoch loss and what could be measured: accuracy
        for classes, pixel_accuracy and mean_iou for masks, nothing more for a regression; val_* with
        validation_data). y: labels (N,) or one-hot (N, K); masks (N, H, W) for per-pixel outputs; or a target of
        the outputs' shape (an autoencoder: y = x, with "mse" or "binary_crossentropy").

        Starts from `params`, else model.params, else model.init(seed). model.params always holds the last good
        params. Callbacks are objects with any of on_train_batch_end(step, logs) and on_epoch_end(epoch, logs); one
        may set model.stop_training = True. Each batch is one core.step.train_step; a loss that diverges (NaN/inf,
        or more than core.step.DIVERGE_FACTOR times the run's first) raises NonFiniteLossError, keeping the last
        good params. Bad arguments raise ValueError naming them before anything changes; a ValueError met later
        (e.g. a label out of range in a later batch) leaves model.params as they were before the call.
        """
        x, y = self._check_batches("fit", x, batch_size, y)
        for name, value in (("epochs", epochs), ("seed", seed)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < (1 if name == "epochs"
                                                                                              else 0):
                raise ValueError(f"fit: {name} must be a {'positive' if name == 'epochs' else 'non-negative'} int, "
                                 f"got {value!r:.40}")
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError(f"fit: validation_data must be a pair (x, y), got {type(validation_data).__name__}")
            validation_data = self._check_batches("fit: validation_data", validation_data[0], 256, validation_data[1])
        opt = optimizers.get(optimizer)
        loss_fn = losses.get(loss, **loss_kwargs)
        params = params if params is not None else self.params if self.params is not None else self.init(seed)
        self.check_params(params)
        previous, self.params = self.params, params
        try:
            return self._fit_epochs(x, y, epochs, batch_size, opt, loss_fn, validation_data, callbacks, params, seed,
                                    shuffle)
        except ValueError:
            self.params = previous    # a failed call changes nothing
            raise

    def _fit_epochs(self, x, y, epochs, batch_size, opt, loss_fn, validation_data, callbacks, params, seed, shuffle):
        """fit's loop, once its arguments are checked."""
        state = opt.init(self.trainable_params(params))
        rng = np.random.default_rng(seed)
        history = History()
        self.stop_training = False
        steps = math.ceil(len(x) / batch_size)
        limit = None                  # the divergence limit, set by the run's first loss
        for epoch in range(epochs):
            order = rng.permutation(len(x)) if shuffle else np.arange(len(x))
            seen, total, counts = 0, 0.0, {}
            for i in range(steps):
                idx = order[i * batch_size:(i + 1) * batch_size]
                good = params
                try:
                    params, state, batch = step.train_step(self, opt, loss_fn, params, state, x[idx], y[idx], rng,
                                                           limit)
                except step.Diverged as e:
                    history.params = self.params
                    raise NonFiniteLossError(f"{e.message(f'epoch {epoch + 1}, batch {i + 1}')}; params are kept at "
                                             f"their last good values", self.params, history) from None
                self.params = good            # their loss passed the check: the last good params
                limit = step.loss_limit(batch["loss"], limit)
                seen += batch["count"]
                total += batch["loss"] * batch["count"]
                counts = metrics.add_counts(counts, {k: v for k, v in batch.items() if k not in ("loss", "count")})
                for cb in callbacks:
                    if hasattr(cb, "on_train_batch_end"):
                        cb.on_train_batch_end(i, {"loss": batch["loss"], "epoch": epoch, "seen": seen,
                                                  "steps": steps})
                if self.stop_training:
                    break
            # params after the last update are only "good" once a finite loss confirms them; keep both honest:
            if step.all_finite(params):
                self.params = params
            logs = {"loss": total / seen, **metrics.summarize(counts)}
            if validation_data is not None:
                val = self.evaluate(self.params, *validation_data, loss=loss_fn, return_dict=True)
                logs.update({f"val_{k}": v for k, v in val.items()})
            for k, v in logs.items():
                history.history.setdefault(k, []).append(v)
            for cb in callbacks:
                if hasattr(cb, "on_epoch_end"):
                    cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        history.params = self.params
        return history

    # -- architecture as plain data ----------------------------------------------------------------------------
    def get_config(self):
        """The architecture as JSON-able data: layers in order with their kind, config and input layers."""
        return {"class": self.kind, "name": self.name,
                "layers": [{"name": n.layer.name, "kind": n.layer.kind, "config": n.layer.config(),
                            "inputs": [p.layer.name for p in n.inputs]} for n in self.nodes]}


class Sequential(Model):
    """A plain stack: Sequential([Input((32, 32, 1)), Conv2D(6, 5), ...]) or Sequential([...], input_shape=(32, 32, 1))."""

    kind = "Sequential"

    def __init__(self, layers, input_shape=None, name="sequential"):
        layers = list(layers)
        if layers and isinstance(layers[0], L.Node):
            inputs, layers = layers[0], layers[1:]
        elif input_shape is not None:
            inputs = L.Input(input_shape)
        else:
            raise ValueError("Sequential: give the input shape, as Input(shape) first or input_shape=(H, W, C)")
        if not layers:
            raise ValueError("Sequential: add at least one layer")
        x = inputs
        for i, layer in enumerate(layers):
            if not isinstance(layer, L.Layer) or layer.merges:
                raise ValueError(f"Sequential: item {i + 1} ({layer!r}) is not a single-input layer")
            try:
                x = layer(x)
            except ValueError as e:
                raise ValueError(f"Sequential: layer {i + 1} ({layer.kind}) cannot follow an output of shape "
                                 f"(None, {', '.join(map(str, x.shape))}): {e}") from None
        super().__init__(inputs, x, name)


def lenet5(activation="relu", pooling="max", input_shape=(32, 32, 1), classes=10, dropout=0.0):
    """LeNet-5 as in the lecture: C1 6@5x5 - S2 - C3 16@5x5 - S4 - C5 120@5x5 - F6 84 - OUTPUT 10 (logits).

    61,706 weights: 156, 0, 2416, 0, 48120, 0 (flatten), 10164, 850.
    """
    pools = {"max": L.MaxPooling2D, "average": L.AveragePooling2D, "avg": L.AveragePooling2D}
    if not isinstance(pooling, str) or pooling not in pools:
        raise ValueError(f"lenet5: pooling must be 'max' or 'average', got {pooling!r:.40}")
    pool = pools[pooling]
    stack = [L.Input(input_shape, name="input"),
             L.Conv2D(6, 5, activation=activation, name="C1"), pool(2, name="S2"),
             L.Conv2D(16, 5, activation=activation, name="C3"), pool(2, name="S4"),
             L.Conv2D(120, 5, activation=activation, name="C5"), L.Flatten(name="flatten"),
             L.Dense(84, activation=activation, name="F6")]
    if dropout:
        stack.append(L.Dropout(dropout, name="dropout"))
    stack.append(L.Dense(classes, name="OUTPUT"))
    return Sequential(stack, name="lenet5")


# What a weights file may describe: checked before any layer is built or any array allocated, so a crafted file
# gets a ValueError, never a RecursionError (100,000 nested brackets) or a MemoryError (a Dense with 10^10 inputs).
MAX_LAYERS = 256                     # the zoo's ResNet has 30; the graph walk recurses once per layer of depth
MAX_PARAMS = 100_000_000             # 400 MB of float32: more than the browser's memory allows anyway
MAX_ARCHITECTURE_CHARS = 1_000_000   # LeNet-5's architecture is about 1,500 characters
MAX_FILE_BYTES = 8 * MAX_PARAMS + 8 * MAX_ARCHITECTURE_CHARS


def _check_architecture(config):
    """ValueError unless config has get_config()'s shape and at most MAX_LAYERS layers (nothing is built yet)."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list) or not config["layers"]:
        raise ValueError("model architecture is malformed: expected {'layers': [...]} with at least one layer")
    specs = config["layers"]
    if len(specs) > MAX_LAYERS:
        raise ValueError(f"model architecture has {len(specs):,} layers, more than the {MAX_LAYERS} allowed")
    if not isinstance(config.get("name", "model"), str):
        raise ValueError(f"model architecture: the name must be text, got {config['name']!r:.80}")
    for i, spec in enumerate(specs):
        ok = (isinstance(spec, dict) and isinstance(spec.get("name"), str) and isinstance(spec.get("kind"), str)
              and isinstance(spec.get("config"), dict))
        if ok and spec["kind"] != "Input":
            ok = isinstance(spec.get("inputs"), list) and all(isinstance(n, str) for n in spec["inputs"])
        if not ok:
            raise ValueError(f"model architecture is malformed: layer {i + 1} is not {{'name', 'kind', 'config', "
                             f"'inputs'}} ({str(spec)[:80]})")
    if specs[0]["kind"] != "Input":
        raise ValueError(f"model architecture is malformed: the first layer is {specs[0]['kind']!r:.40}, not Input")


def _widths(widths, n, owner):
    """`n` positive ints (channels per stage), or ValueError naming `owner`."""
    if not isinstance(widths, (tuple, list)) or len(widths) != n:
        raise ValueError(f"{owner}: widths must be {n} positive ints (channels per stage), got {widths!r:.60}")
    return [L.arithmetic.check_positive_int(w, "widths", owner) for w in widths]


def autoencoder(input_shape=(28, 28, 1), code_size=16, widths=(8, 16), output_activation="sigmoid"):
    """An autoencoder (input = target, learned without labels): conv/pool down to a code of `code_size` numbers,
    the layer named "code", then back up to the input's size, sigmoid pixels in [0, 1] (train with loss="mse").

        enc_conv1 (Conv2D widths[0] 3x3 relu) - enc_pool1 - enc_conv2 (Conv2D widths[1] 3x3 relu) - enc_pool2 -
        flatten - code (Dense code_size, linear) | dec_dense (Dense relu) - dec_reshape - dec_up1 (UpSampling2D 2) -
        dec_conv1 (Conv2D widths[0] 3x3 relu) - output (Conv2DTranspose 3x3, stride 2, "same", sigmoid)

    H and W must be multiples of 4. output_activation=None leaves logits, for loss="binary_crossentropy" (which
    takes logits). encoder_of(model) and decoder_of(model) split it at the code."""
    h, w, c = input_shape
    if h % 4 or w % 4:
        raise ValueError(f"autoencoder: input height and width must be multiples of 4 (two 2x2 poolings), "
                         f"got {input_shape}")
    code_size = L.arithmetic.check_positive_int(code_size, "code_size", "autoencoder")
    w1, w2 = _widths(widths, 2, "autoencoder")
    small = (h // 4, w // 4, w2)
    return Sequential([L.Input(input_shape, name="input"),
                       L.Conv2D(w1, 3, padding="same", activation="relu", name="enc_conv1"),
                       L.MaxPooling2D(2, name="enc_pool1"),
                       L.Conv2D(w2, 3, padding="same", activation="relu", name="enc_conv2"),
                       L.MaxPooling2D(2, name="enc_pool2"),
                       L.Flatten(name="flatten"),
                       L.Dense(code_size, name="code"),
                       L.Dense(math.prod(small), activation="relu", name="dec_dense"),
                       L.Reshape(small, name="dec_reshape"),
                       L.UpSampling2D(2, name="dec_up1"),
                       L.Conv2D(w1, 3, padding="same", activation="relu", name="dec_conv1"),
                       L.Conv2DTranspose(c, 3, strides=2, padding="same", activation=output_activation,
                                         name="output")], name="autoencoder")


def segmenter(input_shape=(28, 28, 1), classes=11, widths=(8, 16, 32), context=32):
    """A small encoder-decoder giving a class per pixel: logits (N, H, W, classes) (background + 10 digits = 11),
    for masks (N, H, W) with loss="categorical_crossentropy" or "focal".

        encoder: enc1 (Conv2D widths[0] 3x3 relu) - pool1 - enc2 (Conv2D widths[1]) - pool2 - mid (Conv2D widths[2])
        context: Conv2D(context, 7x7) over mid, a window of about a digit (28 input pixels), relu
        decoder: unfold (Conv2DTranspose widths[1], 7x7, relu) back to mid's size - spread (UpSampling2D 4) -
                 join (Concatenate with enc1, a skip connection) - pixels (Conv2D classes 1x1, logits)

    Which pixels are ink is local (enc1, handed over by the skip connection); which digit they belong to needs
    the whole digit, which the context window sees (as LeNet's C5 sees all of S4). H, W multiples of 4; the window
    shrinks to H/4 x W/4 for inputs under 28x28. Two digits in a 56x56 canvas get a context per digit-sized window.
    """
    h, w, _ = input_shape
    if h % 4 or w % 4:
        raise ValueError(f"segmenter: input height and width must be multiples of 4 (two 2x2 poolings), "
                         f"got {input_shape}")
    classes = L.arithmetic.check_positive_int(classes, "classes", "segmenter")
    w1, w2, w3 = _widths(widths, 3, "segmenter")
    window = (min(7, h // 4), min(7, w // 4))
    conv = lambda width, name: L.Conv2D(width, 3, padding="same", activation="relu", name=name)
    inputs = L.Input(input_shape, name="input")
    e1 = conv(w1, "enc1")(inputs)
    e2 = conv(w2, "enc2")(L.MaxPooling2D(2, name="pool1")(e1))
    m = conv(w3, "mid")(L.MaxPooling2D(2, name="pool2")(e2))
    c = L.Conv2D(context, window, activation="relu", name="context")(m)
    u = L.Conv2DTranspose(w2, window, activation="relu", name="unfold")(c)
    joined = L.Concatenate(name="join")([L.UpSampling2D(4, name="spread")(u), e1])
    return Model(inputs, L.Conv2D(classes, 1, name="pixels")(joined), name="segmenter")


def _node_named(model, name):
    for i, node in enumerate(model.nodes):
        if node.layer.name == name:
            return i
    raise ValueError(f"model '{model.name}' has no layer named {name!r} (layers: "
                     f"{', '.join(n.layer.name for n in model.nodes)})")


def encoder_of(model, code_layer="code"):
    """The part of `model` from its input to the layer `code_layer` (the same layer objects): x -> code.
    encoder.apply(params, x) works with the whole model's params (layers find their weights by name)."""
    return Model(model.nodes[0], model.nodes[_node_named(model, code_layer)], name=f"{model.name}_encoder")


def decoder_of(model, code_layer="code"):
    """The part of `model` after `code_layer`, as a model of its own whose Input, named `code_layer`, takes a code
    (N, *code shape): a point moved in code space decodes with decoder.apply(params, code), `params` the whole
    model's (layers keep their names and find their weights by name; fresh layer objects, the same weights).

    ValueError if a layer after the code also reads something before it (a skip connection): then the code alone
    does not decide the output."""
    start = _node_named(model, code_layer)
    code = model.nodes[start]
    if start == len(model.nodes) - 1:
        raise ValueError(f"decoder_of: {code_layer!r} is the output of model '{model.name}': nothing decodes it")
    mapping = {id(code): L.Input(code.shape, name=code_layer)}
    for node in model.nodes[start + 1:]:
        inside = [id(p) in mapping for p in node.inputs]
        if not any(inside):
            continue                      # a branch that does not read the code (e.g. from the input)
        if not all(inside):
            outside = [p.layer.name for p in node.inputs if id(p) not in mapping]
            raise ValueError(f"decoder_of: layer '{node.layer.name}' of model '{model.name}' reads "
                             f"{', '.join(outside)} besides the code {code_layer!r}, so the code alone does not "
                             f"decide the output")
        layer = L.from_config(node.layer.kind, node.layer.config(), node.layer.name)
        ins = [mapping[id(p)] for p in node.inputs]
        mapping[id(node)] = layer(ins if layer.merges else ins[0])
    if id(model.nodes[-1]) not in mapping:
        raise ValueError(f"decoder_of: the output of model '{model.name}' does not depend on {code_layer!r}")
    return Model(mapping[id(code)], mapping[id(model.nodes[-1])], name=f"{model.name}_decoder")


def from_config(config):
    """Rebuild a Model/Sequential from get_config() data. ValueError for anything malformed or too large
    (more than MAX_LAYERS layers or MAX_PARAMS parameters): layers are only described here, nothing allocated."""
    _check_architecture(config)
    try:
        nodes = {}
        for spec in config["layers"]:
            if spec["kind"] == "Input":
                nodes[spec["name"]] = L.Input(spec["config"]["shape"], name=spec["name"])
                continue
            layer = L.from_config(spec["kind"], spec["config"], spec["name"])
            ins = [nodes[name] for name in spec["inputs"]]
            nodes[spec["name"]] = layer(ins if layer.merges else ins[0])
        first, last = config["layers"][0]["name"], config["layers"][-1]["name"]
        model = Model(nodes[first], nodes[last], name=config.get("name", "model"))
        if config.get("class") == "Sequential":
            model.__class__ = Sequential     # the same graph; Sequential only differs in how it is built
    except (KeyError, TypeError, IndexError, AttributeError, OverflowError, RecursionError) as e:
        raise ValueError(f"model architecture is malformed ({type(e).__name__}: {str(e)[:200]})") from None
    if model.count_params() > MAX_PARAMS:
        raise ValueError(f"model architecture has {model.count_params():,} parameters, more than the "
                         f"{MAX_PARAMS:,} allowed")
    return model


def save(path, model, params):
    """Write params and the architecture (JSON) into one .npz; arrays only, so loading never unpickles.

    path: a file name, written exactly as given (no suffix added) and atomically (a good file there stays whole
    until the new one is complete), or a writable file object. Returns the Path written (None for a file object).
    ValueError, with nothing written, if params do not fit the model or hold NaN/inf or non-float arrays (a file
    `load` would refuse), or if the file cannot be written.
    """
    model.check_params(params)
    arrays = {}
    for layer, ws in params.items():
        for w, a in ws.items():
            a = np.asarray(a)
            if a.dtype.kind != "f":
                raise ValueError(f"save: {layer}/{w} has dtype {a.dtype}, expected floating point; nothing written")
            if not np.isfinite(a).all():
                raise ValueError(f"save: {layer}/{w} contains NaN or inf (diverged params?); nothing written")
            arrays[f"{layer}/{w}"] = a
    arrays["__format__"] = np.array(FORMAT)
    arrays["__architecture__"] = np.array(json.dumps(model.get_config()))
    if hasattr(path, "write"):
        np.savez(path, **arrays)
        return None
    try:
        return files.atomic_write(path, lambda f: np.savez(f, **arrays))
    except OSError as e:
        raise ValueError(f"cannot write weights file {str(path)!r}: {e.strerror or e}") from None


def load(path):
    """Read a .npz written by `save` (or core.jax's training scripts) -> (model, params). Path or file-like/bytes.

    Raises ValueError, and nothing else, saying what is wrong with a truncated, pickled, foreign, oversized or
    mismatched file: sizes are checked against the bytes before anything is allocated (core/files.py), the
    architecture is bounded before it is built (MAX_LAYERS, MAX_PARAMS), and the arrays must be exactly the
    parameters it needs.
    """
    where = str(getattr(path, "name", path)) if not isinstance(path, (bytes, bytearray)) else "<bytes>"
    label = f"weights file {where!r}"
    arrays = files.read_npz(path, label, max_bytes=MAX_FILE_BYTES, max_members=4 * MAX_LAYERS + 2)
    fmt = arrays.pop("__format__", None)
    if fmt is None or fmt.shape != () or fmt.dtype.kind != "U" or str(fmt) != FORMAT:
        raise ValueError(f"{label} is not a CNN Playground weights file (no '__format__' = {FORMAT!r})")
    text = arrays.pop("__architecture__", None)
    if text is None or text.shape != () or text.dtype.kind != "U":
        raise ValueError(f"{label} has no readable architecture (no '__architecture__' text)")
    if len(str(text)) > MAX_ARCHITECTURE_CHARS:
        raise ValueError(f"{label}: its architecture is {len(str(text)):,} characters, more than "
                         f"{MAX_ARCHITECTURE_CHARS:,}")
    try:
        config = json.loads(str(text))
    except (ValueError, RecursionError) as e:       # RecursionError: brackets nested thousands deep
        raise ValueError(f"{label} has no readable architecture ({type(e).__name__}: {str(e)[:200]})") from None
    try:
        model = from_config(config)
    except ValueError as e:
        raise ValueError(f"{label}: {e}") from None
    params = {}
    for key, arr in arrays.items():
        layer, _, w = key.partition("/")
        if not layer or not w:
            raise ValueError(f"{label}: array {key!r:.80} is not named layer/weight")
        if arr.dtype.kind != "f":
            raise ValueError(f"{label}: {key} has dtype {arr.dtype}, expected floating point")
        params.setdefault(layer, {})[w] = arr
    stored, needed = sum(a.size for ws in params.values() for a in ws.values()), model.count_params()
    if needed > max(stored, 1_000_000):
        # check_params draws a reference set of weights of the model's size: not for a file that cannot fill it
        raise ValueError(f"{label} holds {stored:,} numbers but its architecture has {needed:,} parameters")
    model.check_params(params, where=label)
    for layer, ws in params.items():
        for w, a in ws.items():
            if not np.isfinite(a).all():
                raise ValueError(f"{label}: {layer}/{w} contains NaN or inf")
    return model, params
