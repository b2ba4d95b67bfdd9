"""compile(model): a core model's forward pass in JAX, jitted, over the very same params tree as the NumPy core.

    jm = compile(model, optimizer=optimizers.Adam(1e-3), loss="categorical_crossentropy")
    logits = jm.apply(params, x)                                   # numpy or jax in, jax out
    loss, grads = jm.value_and_grad(params, x, y)                  # grads from jax.grad, same tree as params
    state = jm.init_optimizer(params)
    params, state, loss = jm.train_step(params, state, x, y, key)  # one jitted optimizer step (dropout on)
    params, state, losses = jm.train_epoch(params, state, x_all, y_all, key, batch_size=256)  # lax.scan

The graph walk mirrors Model.forward: node 0 is the input, node i applies its layer to the outputs of
model.inputs_of[i]. Losses and optimizer steps are the core's own functions (written with array operators),
so the only JAX-specific math is in ops.py. A learning-rate schedule (optimizers.cosine_decay) reads the step
count in the optimizer state, so the jitted steps follow it as the NumPy core does. Shapes and params are checked
in Python before anything is traced, so bad input raises the core's ValueErrors and never a tracer error.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from .. import losses, metrics, optimizers
from . import ops


def count_correct(y, logits):
    """metrics.count_correct inside jit: how many argmax(logits) equal the labels y (N,) ints or (N, K) one-hot."""
    labels = y.argmax(axis=1) if y.ndim == 2 else y
    return (logits.argmax(axis=1) == labels).sum()


def confusion(y, logits, k):
    """metrics.batch_counts' confusion matrix (k, k) inside jit, for per-pixel logits (N, ..., k) with id masks
    (N, ...) or one-hot (N, ..., k): a scatter-add of ones at (true, predicted)."""
    masks = y.argmax(axis=-1) if y.ndim == logits.ndim else y
    cells = masks.reshape(-1).astype(jnp.int32) * k + logits.argmax(axis=-1).reshape(-1)
    return jnp.zeros(k * k, jnp.int32).at[cells].add(1).reshape(k, k)


def _loss_key(loss, loss_kwargs):
    """A hashable name for a loss and its settings (alpha may be a list), so each gets its own jitted function."""
    return (loss if isinstance(loss, str) else id(loss),
            tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple, np.ndarray)) else v)
                         for k, v in loss_kwargs.items())))


class Compiled:
    """The jitted mirror of one core model. Build it with `compile(model, ...)`."""

    def __init__(self, model, optimizer="adam", loss="categorical_crossentropy", mesh=None, **loss_kwargs):
        for node in model.nodes[1:]:
            if node.layer.kind not in ops.LAYERS:
                raise ValueError(f"core.jax: no JAX version of layer kind {node.layer.kind!r} ({node.layer.label})")
        self.model = model
        self.optimizer = optimizers.get(optimizer)
        self.loss, self.loss_kwargs = loss, loss_kwargs
        self.mesh = mesh
        self.has_dropout = any(n.layer.kind == "Dropout" and n.layer.rate > 0 for n in model.nodes)
        reference = model.init(seed=0)
        self._shapes = {name: {w: a.shape for w, a in ws.items()} for name, ws in reference.items()}
        self._jitted = {}

    # -- the pure functions (traced by jit) -------------------------------------------------------------------
    def forward(self, params, x, training=False, key=None):
        """Every node's output, in node order (node 0 is x). Dropout layer i uses fold_in(key, i)."""
        outs = [jnp.asarray(x)]
        for i in range(1, len(self.model.nodes)):
            layer = self.model.nodes[i].layer
            ins = [outs[j] for j in self.model.inputs_of[i]]
            layer_key = jax.random.fold_in(key, i) if (key is not None and layer.kind == "Dropout") else None
            outs.append(ops.LAYERS[layer.kind](layer, params.get(layer.name, {}), ins if layer.merges else ins[0],
                                               training, layer_key))
        return outs

    def _loss_value(self, params, x, y, loss_fn, training, key):
        logits = self.forward(params, x, training, key)[-1]
        # the core loss returns (value, dlogits); jax.grad needs only the value. Model.loss's penalties, traced:
        return self.model.loss(params, logits, y, lambda out, t: (loss_fn(out, t)[0], None))[0]

    def _value_and_grad(self, params, x, y, loss_fn, training, key):
        """(loss, grads of the trainable layers): frozen layers (trainable=False) are constants, as in the core."""
        return jax.value_and_grad(lambda t: self._loss_value({**params, **t}, x, y, loss_fn, training, key))(
            self.model.trainable_params(params))

    def _step(self, loss_fn, params, opt_state, x, y, key):
        value, grads = self._value_and_grad(params, x, y, loss_fn, True, key)
        params, opt_state = self.model.update(self.optimizer, grads, opt_state, params)
        return params, opt_state, value

    def _plan(self, batch_size, n, key):
        """The epoch's shuffled batches (steps, batch_size) of example indices and one PRNG key per step.
        A last partial batch is dropped; the next epoch's shuffle brings those examples back."""
        steps = n // batch_size
        perm_key, step_key = jax.random.split(key)
        order = jax.random.permutation(perm_key, n)[:steps * batch_size].reshape(steps, batch_size)
        return order, jax.random.split(step_key, steps)

    def _batch_step(self, loss_fn, params, opt_state, x_all, y_all, idx, key):
        """One step on the batch x_all[idx] gathered on the device."""
        xb, yb = x_all[idx], y_all[idx]
        if self.mesh is not None:    # split each batch over the devices (data parallel); XLA adds the all-reduce
            xb, yb = jax.lax.with_sharding_constraint((xb, yb), NamedSharding(self.mesh, PartitionSpec("data")))
        return self._step(loss_fn, params, opt_state, xb, yb, key if self.has_dropout else None)

    def _epoch(self, loss_fn, batch_size, params, opt_state, x_all, y_all, key):
        """The whole epoch as one program: lax.scan of _batch_step over the planned batches."""
        order, keys = self._plan(batch_size, x_all.shape[0], key)

        def body(carry, inputs):
            p, s, value = self._batch_step(loss_fn, *carry, x_all, y_all, *inputs)
            return (p, s), value

        (params, opt_state), values = jax.lax.scan(body, (params, opt_state), (order, keys))
        return params, opt_state, values

    def _evaluate_batch(self, loss_fn, kind, params, x, y):
        """(loss summed over the batch, metrics.batch_counts' counts for this kind of target as jax values)."""
        logits = self.forward(params, x)[-1]
        total = self.model.loss(params, logits, y, loss_fn)[0] * x.shape[0]     # with the penalties, as the core
        if kind == "classes":
            return total, {"correct": count_correct(y, logits)}
        if kind == "pixels":
            cm = confusion(y, logits, logits.shape[-1])
            return total, {"correct": jnp.trace(cm), "confusion": cm}
        return total, {}

    # -- jit, one function per (what, loss) ------------------------------------------------------------------
    def _jit(self, what, loss=None, loss_kwargs=None, *static):
        if loss is None:
            loss, loss_kwargs = self.loss, self.loss_kwargs
        loss_kwargs = loss_kwargs or {}
        cache_key = (what, _loss_key(loss, loss_kwargs), static)
        if cache_key not in self._jitted:
            loss_fn = losses.get(loss, **loss_kwargs)
            if what == "apply":
                fn = jax.jit(self.forward, static_argnames=("training",))
            elif what == "value_and_grad":
                fn = jax.jit(lambda p, x, y, training, key: self._value_and_grad(p, x, y, loss_fn, training, key),
                             static_argnames=("training",))
            elif what == "train_step":
                fn = jax.jit(functools.partial(self._step, loss_fn))
            elif what == "train_epoch":
                fn = jax.jit(functools.partial(self._epoch, loss_fn, *static))
            elif what == "plan":
                fn = jax.jit(functools.partial(self._plan, *static))
            elif what == "batch_step":
                fn = jax.jit(functools.partial(self._batch_step, loss_fn))
            elif what == "evaluate":
                fn = jax.jit(functools.partial(self._evaluate_batch, loss_fn, *static))
            self._jitted[cache_key] = fn
        return self._jitted[cache_key]

    # -- checks in plain Python, before tracing ---------------------------------------------------------------
    def check_params(self, params, where="params"):
        """ValueError (naming the layer, weight and shapes) unless params fit this model exactly."""
        if not isinstance(params, dict) or set(params) != set(self._shapes) or any(
                not isinstance(params[k], dict) or set(params[k]) != set(self._shapes[k]) for k in self._shapes):
            self.model.check_params(params, where)   # its message says what
        for name, ws in self._shapes.items():
            for w, shape in ws.items():
                if tuple(np.shape(params[name][w])) != shape:
                    raise ValueError(f"{where}: layer '{name}' {w} has shape {tuple(np.shape(params[name][w]))}, "
                                     f"expected {shape}")

    def _check_batch(self, x, y=None):
        """Input and targets fit the model: y (N, *output_shape[:-1]) class ids (labels (N,), masks (N, H, W)) or
        (N, *output_shape) (one-hot, or a regression target such as an autoencoder's input)."""
        self.model._check_input(x)
        if y is not None:
            ys, out, n = tuple(np.shape(y)), tuple(self.model.output_shape), np.shape(x)[0]
            if not ys or ys[0] != n or ys[1:] not in (out[:-1], out):
                shape = lambda s: "(" + ", ".join(["N", *map(str, s)]) + ("," if not s else "") + ")"
                raise ValueError(f"model '{self.model.name}': labels must be {shape(out[:-1])} class ids or "
                                 f"{shape(out)} (one-hot, or a target of the outputs' shape) for {n} inputs, "
                                 f"got shape {ys}")

    def _check_key(self, training, key):
        if training and self.has_dropout and key is None:
            raise ValueError(f"model '{self.model.name}' has dropout: training needs a PRNG key, "
                             f"e.g. jax.random.key(0)")

    # -- public API (same signatures as the core Model, plus PRNG keys) ----------------------------------------
    def apply(self, params, x, training=False, return_activations=False, key=None):
        """x (N, *input_shape) -> output (N, *output_shape); with return_activations {layer_name: output}."""
        self.check_params(params)
        self._check_batch(x)
        self._check_key(training, key)
        outs = self._jit("apply")(params, x, training=training, key=key)
        if return_activations:
            return {n.layer.name: o for n, o in zip(self.model.nodes, outs)}
        return outs[-1]

    def value_and_grad(self, params, x, y, loss=None, training=False, key=None, **loss_kwargs):
        """(loss, grads) exactly as Model.value_and_grad, gradients from jax.grad. loss defaults to compile()'s."""
        self.check_params(params)
        self._check_batch(x, y)
        self._check_key(training, key)
        if loss is None:
            loss, loss_kwargs = self.loss, {**self.loss_kwargs, **loss_kwargs}
        losses.get(loss, **loss_kwargs)     # an unknown name fails here, clearly
        return self._jit("value_and_grad", loss, loss_kwargs)(params, x, y, training, key)

    def init_optimizer(self, params):
        """The optimizer state for params' trainable layers (the core optimizer's own init, as jax arrays)."""
        return jax.tree_util.tree_map(jnp.asarray, self.optimizer.init(self.model.trainable_params(params)))

    def train_step(self, params, opt_state, x, y, key=None):
        """One optimizer step on the batch (dropout on) -> (params, opt_state, loss before the step)."""
        self.check_params(params)
        self._check_batch(x, y)
        self._check_key(True, key)
        return self._jit("train_step")(params, opt_state, x, y, key)

    def train_epoch(self, params, opt_state, x_all, y_all, key, batch_size=32, loop="scan"):
        """One shuffled epoch of train steps -> (params, opt_state, losses (steps,)).

        loop="scan": the whole epoch is one jitted lax.scan (no per-step dispatch: the choice on GPU/TPU).
        loop="steps": the same batches, keys and math as a Python loop of jitted steps. On XLA's CPU backend a
        convolution inside a loop body misses the fast (YNNPACK) kernels its entry computation gets, and the scan
        measured 3-5x slower (LeNet-5, batch 32), so "auto" picks "steps" on CPU. Both give the same params.
        x_all, y_all should already live on the device (jax arrays) so nothing is copied per epoch.
        """
        self.check_params(params)
        self._check_batch(x_all, y_all)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or not 1 <= batch_size <= np.shape(x_all)[0]:
            raise ValueError(f"train_epoch: batch_size must be between 1 and the {np.shape(x_all)[0]} examples, "
                             f"got {batch_size!r:.40}")
        if self.mesh is not None and batch_size % self.mesh.size:
            raise ValueError(f"train_epoch: batch_size {batch_size} must divide evenly over the mesh's "
                             f"{self.mesh.size} devices")
        if loop == "auto":
            loop = "steps" if jax.default_backend() == "cpu" else "scan"
        if loop == "scan":
            return self._jit("train_epoch", None, None, int(batch_size))(params, opt_state, x_all, y_all, key)
        if loop != "steps":
            raise ValueError(f"train_epoch: loop must be 'scan', 'steps' or 'auto', got {loop!r}")
        order, keys = self._jit("plan", None, None, int(batch_size), int(np.shape(x_all)[0]))(key)
        step = self._jit("batch_step")
        values = []
        for i in range(order.shape[0]):
            params, opt_state, value = step(params, opt_state, x_all, y_all, order[i], keys[i])
            values.append(value)
        return params, opt_state, jnp.stack(values)

    def evaluate(self, params, x, y, batch_size=1000, return_dict=False):
        """The mean loss and what can be measured over x, y in jitted batches (no dropout), as Model.evaluate:
        (loss, accuracy) for labels, (loss, pixel_accuracy, mean_iou) for masks, the loss alone for a regression
        target; return_dict=True: {"loss", ...} with the names of fit's History."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"evaluate: batch_size must be a positive int, got {batch_size!r:.40}")
        if len(x) == 0:
            raise ValueError(f"model '{self.model.name}': evaluate got an empty batch: x of shape {np.shape(x)}")
        self.check_params(params)
        self._check_batch(x, y)
        kind = metrics.target_kind(y, self.model.output_shape)     # on the host: one-hot is told by values
        fn = self._jit("evaluate", None, None, kind)
        total, counts = 0.0, {}
        for i in range(0, len(x), batch_size):
            t, c = fn(params, x[i:i + batch_size], y[i:i + batch_size])
            total = total + float(t)
            counts = metrics.add_counts(counts, {k: np.asarray(v) for k, v in c.items()})
        if counts:
            per = len(x) * (int(np.prod(self.model.output_shape[:-1])) if kind == "pixels" else 1)
            counts["predictions"] = per
        result = {"loss": total / len(x), **metrics.summarize(counts)}
        if return_dict:
            return result
        return tuple(result.values()) if len(result) > 1 else result["loss"]


def compile(model, optimizer="adam", loss="categorical_crossentropy", mesh=None, **loss_kwargs):
    """A core Model/Sequential -> Compiled (jitted apply, value_and_grad, train_step, train_epoch, evaluate).

    optimizer: a core optimizer object or its Keras name; loss: a core loss name (gamma/alpha for "focal");
    mesh: a jax.sharding.Mesh with a "data" axis to split every batch over its devices (see parallel.py).
    """
    return Compiled(model, optimizer, loss, mesh, **loss_kwargs)
