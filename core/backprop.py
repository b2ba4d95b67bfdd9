"""The backward pass taken apart, for the backward-pass explorer (역전파).

    model = explorer_model()                                # 8x8 -> Conv2D(2, 3) -> ReLU -> MaxPooling2D(2) -> Dense(3)
    params = model.init(seed=0)
    c = chain(model, params, x, y)                          # every forward tensor and every backward gradient
    t = kernel_terms(model, c, "conv", (0, 1, 0, 1))        # dL/dK[0, 1, 0, 1] as a sum over output pixels
    check = numerical_grad(model, params, x, y, "conv", "kernel", (0, 1, 0, 1))   # finite differences, float64
    s = sgd_step(model, params, x, y, learning_rate=0.1)   # one step by hand: loss before and after
    r = pool_routes(a, dout, 2)                             # max vs average pooling's backward on one input

Nothing here is a second backward pass: the gradients are core's own (Model.backward with keep_grads), and this
module only lays out how they are made (the shared kernel weight's sum, the pooling routes) and checks them
against finite differences.
"""
import math

import numpy as np

from . import activations, conv, datasets, layers as L, losses, models, optimizers, pooling

EXPLORER_CLASSES = (0, 1, 2)        # the explorer's three-way Dense: digits 0, 1 and 2
EXPLORER_SIDE = 8                   # MNIST padded to 32x32 and averaged over 4x4 blocks


def explorer_model(pooling="max"):
    """A network small enough to read whole: input 8x8x1 -> Conv2D(2, 3) "conv" -> Activation("relu") "relu" ->
    MaxPooling2D(2) (or AveragePooling2D) "pool" -> Flatten "flatten" -> Dense(3) "dense" (logits; the loss
    applies the softmax). 2*(3*3*1+1) + 3*(18+1) = 77 weights."""
    pool = {"max": L.MaxPooling2D, "average": L.AveragePooling2D}
    if pooling not in pool:
        raise ValueError(f"explorer_model: pooling must be 'max' or 'average', got {pooling!r}")
    return models.Sequential([L.Input((EXPLORER_SIDE, EXPLORER_SIDE, 1), name="input"),
                              L.Conv2D(2, 3, name="conv"), L.Activation("relu", name="relu"),
                              pool[pooling](2, name="pool"), L.Flatten(name="flatten"),
                              L.Dense(len(EXPLORER_CLASSES), name="dense")], name="explorer")


def shrink_digit(images):
    """uint8 digits (N, 28, 28) -> float32 (N, 8, 8, 1) in [0, 1]: LeNet's 32x32 input, each 4x4 block averaged."""
    x = datasets.pad_to_32(images)
    block = 32 // EXPLORER_SIDE
    small, _ = pooling.avg_pool_forward(x, block, block)
    return small


def chain(model, params, x, y, loss="categorical_crossentropy", **loss_kwargs):
    """The chain rule as it runs: x (N, *input_shape), y labels (N,) -> dict
        loss: float (with any kernel_regularizer penalties, as Model.loss adds them); outputs: {node name: its
        output}, "input" first; gradients: {node name: dL/d(its output)}, same keys and shapes (the last is
        dL/d(logits)); grads: dL/d(params), params' tree; order: node names.
    Deterministic (dropout off). Every number is core's forward and backward pass (Model.backward keep_grads)."""
    loss_fn = losses.get(loss, **loss_kwargs)
    outs, caches = model.forward(params, x)
    value, dout = model.loss(params, outs[-1], y, loss_fn)
    grads, node_grads = model.backward(params, dout, caches, keep_grads=True)
    order = [n.layer.name for n in model.nodes]
    return {"loss": float(value), "outputs": dict(zip(order, outs)), "gradients": node_grads, "grads": grads,
            "order": order}


def _conv_layer(model, name):
    layer = next((l for l in model.layers if l.name == name), None)
    if layer is None or layer.kind != "Conv2D":
        convs = [l.name for l in model.layers if l.kind == "Conv2D"]
        raise ValueError(f"kernel_terms: {name!r} is not a Conv2D layer of model '{model.name}' "
                         f"(its Conv2D layers: {', '.join(convs) or 'none'})")
    return layer


def _check_index(index, shape, what):
    if not isinstance(index, (tuple, list)) or len(index) != len(shape) or any(
            isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n
            for i, n in zip(index, shape)):
        raise ValueError(f"{what}: index must be {len(shape)} whole numbers within the shape {tuple(shape)}, "
                         f"got {index!r}")
    return tuple(int(i) for i in index)


def kernel_terms(model, chained, layer, index):
    """How backprop's gradient of one shared kernel weight K[di, dj, c, f] of Conv2D `layer` is made: the same
    weight sits under every output pixel's window, so its gradient is the sum over examples n and output pixels
    (i, j) of (the input value under it) x (the upstream gradient dL/dz[n, i, j, f] of that pixel, z before the
    activation):  dL/dK[di, dj, c, f] = sum_n,i,j  x_pad[n, i*sh + di, j*sw + dj, c] * dz[n, i, j, f].

    chained: chain(model, ...)'s result. Returns dict: inputs, upstream, terms (N, Ho, Wo); total (float, equal to
    chained["grads"][layer]["kernel"][index]); rows (Ho,), cols (Wo,) the input pixel each term reads (negative or
    past the edge: zero padding); index."""
    conv_layer = _conv_layer(model, layer)
    kernel_shape = conv_layer.kernel_size + (conv_layer.input_shape[2], conv_layer.filters)
    di, dj, c, f = _check_index(index, kernel_shape, f"kernel_terms '{layer}'")
    node = next(n for n in model.nodes if n.layer is conv_layer)
    x = chained["outputs"][node.inputs[0].layer.name]
    out, dout = chained["outputs"][layer], chained["gradients"][layer]
    dz = activations.backward(conv_layer.activation, dout, out)       # the activation's share of the chain rule
    (top, _), (left, _) = conv_layer.pads
    xp = conv.pad_input(x, *conv_layer.pads)
    inputs = conv.windows(xp, conv_layer.kernel_size, conv_layer.strides)[:, :, :, di, dj, c]
    upstream = dz[..., f]
    terms = inputs * upstream
    (sh, sw), (ho, wo) = conv_layer.strides, dz.shape[1:3]
    return {"inputs": np.array(inputs), "upstream": upstream, "terms": terms, "total": float(terms.sum()),
            "rows": np.arange(ho) * sh + di - top, "cols": np.arange(wo) * sw + dj - left,
            "index": (di, dj, c, f)}


def _as_float64(tree):
    return optimizers.tree_map(lambda a: np.asarray(a, np.float64), tree)


def numerical_grad(model, params, x, y, layer, weight, index, eps=1e-4, loss="categorical_crossentropy",
                   **loss_kwargs):
    """Check backprop on one weight: the central difference (L(w + eps) - L(w - eps)) / (2 eps) of the loss,
    everything in float64, next to backprop's gradient (also float64), for any core model.

    layer, weight: e.g. "C1", "kernel"; index: a tuple into that array. Returns dict: numerical, backprop,
    relative_error = |numerical - backprop| / max(|numerical| + |backprop|, 1e-12) (0 when both are 0), eps, loss.
    ValueError naming the argument for a layer, weight or index the params do not have, or a bad eps."""
    if layer not in params:
        raise ValueError(f"numerical_grad: layer {layer!r} has no weights (layers with weights: "
                         f"{', '.join(params)})")
    if weight not in params[layer]:
        raise ValueError(f"numerical_grad: layer {layer!r} has no weight {weight!r} (it has "
                         f"{', '.join(params[layer])})")
    index = _check_index(index, np.shape(params[layer][weight]), f"numerical_grad '{layer}/{weight}'")
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating)) or not (math.isfinite(eps) and eps > 0):
        raise ValueError(f"numerical_grad: eps must be a finite number > 0, got {eps!r}")
    loss_fn = losses.get(loss, **loss_kwargs)
    p64, x64 = _as_float64(params), np.asarray(x, np.float64)
    value, grads = model.value_and_grad(p64, x64, y, loss=loss_fn)
    w = p64[layer][weight]
    original = w[index]

    def loss_at(v):
        w[index] = v
        return float(model.loss(p64, model.apply(p64, x64), y, loss_fn)[0])     # the penalties count too

    try:
        numerical = (loss_at(original + eps) - loss_at(original - eps)) / (2 * eps)
    finally:
        w[index] = original
    if layer not in grads:
        raise ValueError(f"numerical_grad: layer {layer!r} is frozen (trainable=False): backprop gives it no gradient")
    backprop = float(grads[layer][weight][index])
    scale = abs(numerical) + abs(backprop)
    error = abs(numerical - backprop) / max(scale, 1e-12) if scale else 0.0
    return {"numerical": numerical, "backprop": backprop, "relative_error": error, "eps": float(eps),
            "loss": float(value)}


def sgd_step(model, params, x, y, learning_rate, loss="categorical_crossentropy", **loss_kwargs):
    """One plain gradient-descent step by hand: every trainable weight w - learning_rate * dL/dw (core SGD).

    Returns dict: params (the new tree), grads (the gradient used), loss_before, loss_after (on the same x, y).
    ValueError (from SGD) for a learning rate that is not a finite number > 0."""
    opt = optimizers.SGD(learning_rate)
    value, grads = model.value_and_grad(params, x, y, loss=loss, **loss_kwargs)
    new, _ = model.update(opt, grads, opt.init(model.trainable_params(params)), params)   # frozen layers stay
    after = model.loss(new, model.apply(new, x), y, losses.get(loss, **loss_kwargs))[0]
    return {"params": new, "grads": grads, "loss_before": float(value), "loss_after": float(after)}


def pool_routes(x, dout, pool_size=2):
    """Max and average pooling's backward passes on the same input: x (N, H, W, C), dout (N, Ho, Wo, C), the
    gradient arriving at the pooled map. Returns dict: max, average -> {"output": (N, Ho, Wo, C) the pooled map,
    "dx": (N, H, W, C) where the gradient went} (max: all of it to each window's winner; average: spread evenly)."""
    routes = {}
    for kind, forward, backward in (("max", pooling.max_pool_forward, pooling.max_pool_backward),
                                    ("average", pooling.avg_pool_forward, pooling.avg_pool_backward)):
        out, cache = forward(x, pool_size)
        if out.shape != np.shape(dout):
            raise ValueError(f"pool_routes: dout has shape {np.shape(dout)}, the pooled map {out.shape}")
        routes[kind] = {"output": out, "dx": backward(dout, cache)}
    return routes


def update_taken(before, after):
    """The step an optimizer applied to each weight, before - after (params' tree): for Adam the effective
    per-weight step lr * m_hat / (sqrt(v_hat) + eps), whatever the optimizer's formula."""
    return optimizers.tree_map(lambda b, a: b - a, before, after)
