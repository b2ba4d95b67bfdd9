"""The layer math of core/layers.py in jax.numpy and lax: forward only, jax.grad supplies every backward.

One function per layer kind, `fn(layer, params, x, training, key) -> out`, reading the layer's configuration
(pads, strides, activation) from the core layer object itself, so the two engines cannot drift apart on settings.
Shapes are NHWC activations and HWIO kernels, as in the NumPy core.
"""
import jax
import jax.numpy as jnp
from jax import lax

from .. import arithmetic

_DIMS = ("NHWC", "HWIO", "NHWC")


def activation(name, z):
    """The activation by Keras name; same formulas as core/activations.py (sigmoid via tanh, which never overflows)."""
    if name is None:
        return z
    if name == "relu":
        return jax.nn.relu(z)          # its derivative at exactly 0 is 0, like the core's (a > 0) mask
    if name == "sigmoid":
        return 0.5 * (1 + jnp.tanh(0.5 * z))
    if name == "tanh":
        return jnp.tanh(z)
    if name == "softmax":
        return jax.nn.softmax(z, axis=-1)
    raise ValueError(f"unknown activation {name!r}")


def conv2d(layer, params, x, training=False, key=None):
    """x (N, H, W, C) * kernel (kh, kw, C, F) + bias (F,) -> (N, Ho, Wo, F), then the activation."""
    kernel = params["kernel"]
    kh, kw, c, f = kernel.shape
    if x.shape[1:3] == (kh, kw) and layer.pads == ((0, 0), (0, 0)):
        # The kernel covers the whole input, so there is one output pixel: the layer is a Dense layer on the
        # flattened input (LeNet's C5, as the lecture points out). Same numbers as the convolution, but as a dot
        # its gradients ran 3x faster on XLA's CPU backend (the whole LeNet-5 step 20% faster at batch 32).
        z = (x.reshape(x.shape[0], kh * kw * c) @ kernel.reshape(kh * kw * c, f))[:, None, None, :]
    else:
        z = lax.conv_general_dilated(x, kernel, layer.strides, list(layer.pads), dimension_numbers=_DIMS)
    if layer.use_bias:
        z = z + params["bias"]
    return activation(layer.activation, z)


def _pool_pads(layer):
    """[(0, 0), (top, bottom), (left, right), (0, 0)] as the core computes them for this layer's input."""
    h, w, _ = layer.input_shape
    ph = arithmetic.pad_amounts(h, layer.pool_size[0], layer.strides[0], layer.padding)
    pw = arithmetic.pad_amounts(w, layer.pool_size[1], layer.strides[1], layer.padding)
    return [(0, 0), ph, pw, (0, 0)]


def _tiles(layer, x):
    """True when the windows tile x exactly (pool == strides, no padding, sizes divide): LeNet's 2x2 pools."""
    return (layer.pool_size == layer.strides and x.shape[1] % layer.pool_size[0] == 0
            and x.shape[2] % layer.pool_size[1] == 0 and all(p == (0, 0) for p in _pool_pads(layer)))


def _max_of_tiles(layer, x):
    """Max over non-overlapping windows as a running select over the ph*pw strided slices.

    Same values as reduce_window, but jax.grad of a select is a select, while reduce_window's gradient
    (select_and_scatter_add) measured 5.8x slower on XLA's CPU backend (28x28x6, batch 32). Taking a later
    pixel only when strictly greater gives the gradient to the first maximum of a tie, exactly as the core does.
    """
    ph, pw = layer.pool_size
    best = x[:, 0::ph, 0::pw, :]
    for i in range(ph):
        for j in range(pw):
            if i or j:
                candidate = x[:, i::ph, j::pw, :]
                best = jnp.where(candidate > best, candidate, best)
    return best


def max_pool(layer, params, x, training=False, key=None):
    """Each window's maximum; "same" pads with -inf so a pad never wins (as the core does)."""
    if _tiles(layer, x):
        return _max_of_tiles(layer, x)
    window = (1, *layer.pool_size, 1)
    strides = (1, *layer.strides, 1)
    return lax.reduce_window(x, -jnp.inf, lax.max, window, strides, _pool_pads(layer))


def avg_pool(layer, params, x, training=False, key=None):
    """Each window's mean over real pixels only: pads are left out of the count (Keras/TensorFlow, and the core)."""
    window = (1, *layer.pool_size, 1)
    strides = (1, *layer.strides, 1)
    pads = _pool_pads(layer)
    sums = lax.reduce_window(x, 0.0, lax.add, window, strides, pads)
    if all(p == (0, 0) for p in pads):
        return sums / (layer.pool_size[0] * layer.pool_size[1])
    ones = jnp.ones((1, *x.shape[1:3], 1), x.dtype)
    counts = lax.reduce_window(ones, 0.0, lax.add, window, strides, pads)   # a constant XLA folds at compile time
    return sums / counts


def dense(layer, params, x, training=False, key=None):
    """x (N, in) @ kernel (in, units) + bias (units,), then the activation."""
    z = x @ params["kernel"]
    if layer.use_bias:
        z = z + params["bias"]
    return activation(layer.activation, z)


def flatten(layer, params, x, training=False, key=None):
    """(N, H, W, C) -> (N, H*W*C) in the same (row-major NHWC) order as the core, so Dense kernels carry over."""
    return x.reshape(x.shape[0], -1)


def dropout(layer, params, x, training=False, key=None):
    """Inverted dropout: keep with probability 1 - rate and scale by 1/(1 - rate); identity unless training.

    The mask comes from the explicit PRNG `key` (jax.random), so a step is reproducible from its key.
    """
    if not training or layer.rate == 0:
        return x
    if key is None:
        raise ValueError(f"{layer.label}: training=True needs a PRNG key (jax.random.key) for the dropout mask")
    keep = 1.0 - layer.rate
    mask = jax.random.bernoulli(key, keep, x.shape)
    return jnp.where(mask, x / keep, 0).astype(x.dtype)


def activation_layer(layer, params, x, training=False, key=None):
    return activation(layer.activation, x)


def add(layer, params, xs, training=False, key=None):
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


def concatenate(layer, params, xs, training=False, key=None):
    return jnp.concatenate(xs, axis=-1)


LAYERS = {
    "Conv2D": conv2d,
    "MaxPooling2D": max_pool,
    "AveragePooling2D": avg_pool,
    "Dense": dense,
    "Flatten": flatten,
    "Dropout": dropout,
    "Activation": activation_layer,
    "Add": add,
    "Concatenate": concatenate,
}
