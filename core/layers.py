"""Keras-named layers over the cs231n kernels in conv.py and pooling.py.

Each layer is a little object with shapes fixed at build time and pure methods over plain data:
    build(input_shape) -> output_shape        shapes without the batch axis, e.g. (32, 32, 1)
    init(rng) -> {"kernel": ..., "bias": ...}  ({} for layers without weights)
    forward(params, x, training, rng) -> (out, cache)
    backward(params, dout, cache, need_dx) -> (dx, grads)
Calling a layer on a symbolic tensor (from Input or another layer) records the graph for the Functional API.
"""
import math

import numpy as np

from . import activations, arithmetic, conv, pooling, regularizers
from .backend import matmul


class Node:
    """A symbolic tensor of the Functional API: which layer made it, from which nodes, and its shape (no batch)."""

    def __init__(self, layer, inputs, shape):
        self.layer, self.inputs, self.shape = layer, inputs, tuple(shape)

    def __repr__(self):
        return f"<tensor shape=(None, {', '.join(map(str, self.shape))}) from {self.layer.name or self.layer.kind}>"


class Layer:
    """Shared plumbing: naming, Functional-API calls, config. Subclasses define the math."""

    kind = "Layer"
    weights = ()            # names of the params this layer owns, in order
    trainable = True        # False (Keras' trainable=False): frozen, no grads, the optimizer never moves it
    kernel_regularizer = None   # a regularizers.L1L2 whose penalty the model adds to the loss

    def __init__(self, name=None):
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            # a name keys the params tree and the weights file ("C1/kernel"): text without "/"
            raise ValueError(f"{self.kind}: name must be a non-empty string without '/', got {name!r:.80}")
        self.name = name
        self.input_shape = self.output_shape = None

    @property
    def label(self):
        return f"{self.kind} '{self.name}'" if self.name else self.kind

    def __call__(self, inputs):
        if self.output_shape is not None:
            raise ValueError(f"{self.label} is already part of a graph; create a new layer to use it again")
        nodes = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        for n in nodes:
            if not isinstance(n, Node):
                raise ValueError(f"{self.label} must be called on a tensor from Input() or another layer, got {n!r}")
        shapes = [n.shape for n in nodes]
        out_shape = self.build(shapes if self.merges else shapes[0])
        return Node(self, nodes, out_shape)

    merges = False          # True for layers that take a list of inputs (Add, Concatenate)

    def build(self, input_shape):
        self.input_shape = self.output_shape = tuple(input_shape)
        return self.output_shape

    def init(self, rng):
        return {}

    def count_params(self):
        return 0

    def mults(self):
        """Multiplications per example (bias counted as one, as the lecture counts)."""
        return 0

    def config(self):
        return {}

    def forward(self, params, x, training=False, rng=None):
        return x, None

    def backward(self, params, dout, cache, need_dx=True):
        return dout, {}


def _check_rank(layer, shape, rank, what):
    if len(shape) != rank:
        raise ValueError(f"{layer.label} expects {what}, got input of shape (None, {', '.join(map(str, shape))})")


def _regularizer_config(layer):
    """The kernel regularizer as plain data for the weights file: None or {"l1": ..., "l2": ...}."""
    return None if layer.kernel_regularizer is None else layer.kernel_regularizer.get_config()


def _check_bool(value, what, owner):
    """value if it is a bool (or NumPy bool), else ValueError naming `owner`: the string "False" is not False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{owner}: {what} must be True or False, got {value!r}")
    return bool(value)


class InputLayer(Layer):
    kind = "Input"

    def __init__(self, shape, name=None):
        super().__init__(name)
        if not isinstance(shape, (tuple, list, np.ndarray)) or not len(shape) or any(
                isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in shape):
            raise ValueError(f"Input: shape must be a tuple of positive ints without the batch axis, e.g. "
                             f"(32, 32, 1); got {shape!r:.80}")
        self.input_shape = self.output_shape = tuple(int(s) for s in shape)

    def config(self):
        return {"shape": list(self.output_shape)}


def Input(shape, name=None):
    """The model's input, shape without the batch axis, e.g. Input((32, 32, 1)). Returns a symbolic tensor."""
    layer = InputLayer(shape, name)
    return Node(layer, [], layer.output_shape)


class Conv2D(Layer):
    """`filters` kernels of kernel_size x in_channels, each with one bias; weights shared over all positions.

    kernel (h, w, C, F) (HWIO), bias (F,). Input (N, H, W, C) -> output (N, Ho, Wo, F).
    """

    kind = "Conv2D"
    weights = ("kernel", "bias")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", use_bias=True, activation=None,
                 trainable=True, kernel_regularizer=None, name=None):
        super().__init__(name)
        self.filters = arithmetic.check_positive_int(filters, "filters", self.label)
        self.kernel_size = arithmetic.pair(kernel_size, "kernel_size", self.label)
        self.strides = arithmetic.pair(strides, "strides", self.label)
        self.padding = arithmetic.check_padding(padding, self.label)
        self.use_bias = _check_bool(use_bias, "use_bias", self.label)
        self.activation = activations.check(activation, self.label)
        self.trainable = _check_bool(trainable, "trainable", self.label)
        self.kernel_regularizer = regularizers.get(kernel_regularizer, self.label)
        if not self.use_bias:
            self.weights = ("kernel",)

    def build(self, input_shape):
        _check_rank(self, input_shape, 3, "a 4-D input (N, H, W, C)")
        hw = tuple(input_shape[:2])
        self.pads = arithmetic.window_pads(hw, self.kernel_size, self.strides, self.padding, self.label, "kernel")
        ho, wo = arithmetic.output_hw(hw, self.kernel_size, self.strides, self.padding)
        self.input_shape, self.output_shape = tuple(input_shape), (ho, wo, self.filters)
        return self.output_shape

    def init(self, rng):
        kh, kw = self.kernel_size
        c = self.input_shape[2]
        # Glorot uniform (Keras' default): variance balanced between fan-in and fan-out.
        limit = math.sqrt(6.0 / (kh * kw * c + kh * kw * self.filters))
        params = {"kernel": rng.uniform(-limit, limit, self._kernel_shape(c)).astype(np.float32)}
        if self.use_bias:
            params["bias"] = np.zeros(self.filters, np.float32)
        return params

    def count_params(self):
        return arithmetic.conv_params(self.kernel_size, self.input_shape[2], self.filters, self.use_bias)

    def mults(self):
        return arithmetic.conv_mults(self.output_shape[:2], self.kernel_size, self.input_shape[2], self.filters,
                                     self.use_bias)

    def config(self):
        return {"filters": self.filters, "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "use_bias": self.use_bias, "activation": self.activation,
                "trainable": self.trainable, "kernel_regularizer": _regularizer_config(self)}

    def forward(self, params, x, training=False, rng=None):
        fuse = self.activation == "relu"           # conv applies relu on its own memory (faster, same values)
        z, cache = conv.conv2d_forward(x, params["kernel"], params.get("bias"), self.strides, self.padding,
                                       name=self.label, relu=fuse)
        a = z if fuse else activations.forward(self.activation, z, inplace=True)
        return a, (cache, a)

    _kernel_backward = staticmethod(conv.conv2d_backward)

    def _kernel_shape(self, in_channels):
        return (*self.kernel_size, in_channels, self.filters)       # HWIO

    def backward(self, params, dout, cache, need_dx=True):
        conv_cache, a = cache
        dz = activations.backward(self.activation, dout, a)
        dx, dk, db = self._kernel_backward(dz, conv_cache, need_dx)
        grads = {"kernel": dk}
        if self.use_bias:
            grads["bias"] = db
        return dx, grads


class Conv2DTranspose(Conv2D):
    """The convolution turned round, a decoder's learned upsampling: each input pixel adds its values times the
    kernel onto a kh x kw patch of the output, the patches `strides` apart, so the map grows.

    kernel (h, w, F, C) (Keras' layout: the HWIO kernel of the convolution it transposes), bias (F,).
    Input (N, H, W, C) -> output (N, Ho, Wo, F), Ho = H*s + max(h - s, 0) ("valid") or H*s ("same").
    """

    kind = "Conv2DTranspose"
    _kernel_backward = staticmethod(conv.conv2d_transpose_backward)     # im2col and two products

    def __init__(self, filters, kernel_size, strides=1, padding="valid", use_bias=True, activation=None,
                 trainable=True, kernel_regularizer=None, name=None):
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"{self.kind}{f' {name!r}' if isinstance(name, str) else ''}: padding must be "
                             f"'valid' or 'same', got {padding!r:.40}")
        super().__init__(filters, kernel_size, strides, padding, use_bias, activation, trainable, kernel_regularizer,
                         name)

    def _kernel_shape(self, in_channels):
        return (*self.kernel_size, self.filters, in_channels)       # Keras' layout for the transposed kernel

    def build(self, input_shape):
        _check_rank(self, input_shape, 3, "a 4-D input (N, H, W, C)")
        ho, wo = arithmetic.transposed_output_hw(input_shape[:2], self.kernel_size, self.strides, self.padding)
        self.input_shape, self.output_shape = tuple(input_shape), (ho, wo, self.filters)
        return self.output_shape

    def mults(self):
        return arithmetic.conv_transpose_mults(self.input_shape[:2], self.output_shape[:2], self.kernel_size,
                                               self.input_shape[2], self.filters, self.use_bias)

    def forward(self, params, x, training=False, rng=None):
        z, cache = conv.conv2d_transpose_forward(x, params["kernel"], params.get("bias"), self.strides,
                                                 self.padding, self.label)
        a = activations.forward(self.activation, z, inplace=True)
        return a, (cache, a)


class UpSampling2D(Layer):
    """Repeats every pixel size[0] x size[1] times (nearest neighbour, Keras' default): the map grows without
    weights. Input (N, H, W, C) -> (N, H*sh, W*sw, C); the gradient of each copy is summed back."""

    kind = "UpSampling2D"

    def __init__(self, size=2, interpolation="nearest", name=None):
        super().__init__(name)
        self.size = arithmetic.pair(size, "size", self.label)
        if interpolation != "nearest":
            raise ValueError(f"{self.label}: interpolation must be 'nearest' (the only one here), "
                             f"got {interpolation!r}")
        self.interpolation = interpolation

    def build(self, input_shape):
        _check_rank(self, input_shape, 3, "a 4-D input (N, H, W, C)")
        h, w, c = input_shape
        self.input_shape, self.output_shape = tuple(input_shape), (h * self.size[0], w * self.size[1], c)
        return self.output_shape

    def config(self):
        return {"size": list(self.size), "interpolation": self.interpolation}

    def forward(self, params, x, training=False, rng=None):
        sh, sw = self.size
        n, h, w, c = x.shape
        out = np.broadcast_to(x[:, :, None, :, None, :], (n, h, sh, w, sw, c))
        return out.reshape(n, h * sh, w * sw, c), None

    def backward(self, params, dout, cache, need_dx=True):
        sh, sw = self.size
        n, ho, wo, c = dout.shape
        return dout.reshape(n, ho // sh, sh, wo // sw, sw, c).sum(axis=(2, 4)), {}


class _Pooling2D(Layer):
    def __init__(self, pool_size=2, strides=None, padding="valid", name=None):
        super().__init__(name)
        self.pool_size, self.strides, self.padding = pooling.pool_settings(pool_size, strides, padding, self.label)

    def build(self, input_shape):
        _check_rank(self, input_shape, 3, "a 4-D input (N, H, W, C)")
        hw = tuple(input_shape[:2])
        self.pads = arithmetic.window_pads(hw, self.pool_size, self.strides, self.padding, self.label, "pool")
        ho, wo = arithmetic.output_hw(hw, self.pool_size, self.strides, self.padding)
        self.input_shape, self.output_shape = tuple(input_shape), (ho, wo, input_shape[2])
        return self.output_shape

    def config(self):
        return {"pool_size": list(self.pool_size), "strides": list(self.strides), "padding": self.padding}


class MaxPooling2D(_Pooling2D):
    """Keeps each window's maximum; the gradient goes back to that one pixel."""

    kind = "MaxPooling2D"

    def forward(self, params, x, training=False, rng=None):
        return pooling.max_pool_forward(x, self.pool_size, self.strides, self.padding, self.label)

    def backward(self, params, dout, cache, need_dx=True):
        return pooling.max_pool_backward(dout, cache), {}


class AveragePooling2D(_Pooling2D):
    """Keeps each window's mean; the gradient is spread evenly over the window."""

    kind = "AveragePooling2D"

    def forward(self, params, x, training=False, rng=None):
        return pooling.avg_pool_forward(x, self.pool_size, self.strides, self.padding, self.label)

    def backward(self, params, dout, cache, need_dx=True):
        return pooling.avg_pool_backward(dout, cache), {}


class Flatten(Layer):
    """(N, H, W, C) -> (N, H*W*C): what an MLP must do to an image, losing its 2-D layout."""

    kind = "Flatten"

    def build(self, input_shape):
        self.input_shape, self.output_shape = tuple(input_shape), (math.prod(input_shape),)
        return self.output_shape

    def forward(self, params, x, training=False, rng=None):
        return x.reshape(x.shape[0], -1), x.shape

    def backward(self, params, dout, cache, need_dx=True):
        return dout.reshape(cache), {}


class Reshape(Layer):
    """(N, *input_shape) -> (N, *target_shape), the same numbers in the same (row-major) order; one size may be -1
    (worked out). A decoder's Dense(7*7*8) becomes a map again with Reshape((7, 7, 8))."""

    kind = "Reshape"

    def __init__(self, target_shape, name=None):
        super().__init__(name)
        if not isinstance(target_shape, (tuple, list)) or not target_shape or any(
                isinstance(s, bool) or not isinstance(s, (int, np.integer)) or (s < 1 and s != -1)
                for s in target_shape) or list(target_shape).count(-1) > 1:
            raise ValueError(f"{self.label}: target_shape must be a tuple of positive ints (one may be -1) without "
                             f"the batch axis, got {target_shape!r}")
        self.target_shape = tuple(int(s) for s in target_shape)

    def build(self, input_shape):
        size, known = math.prod(input_shape), math.prod(s for s in self.target_shape if s != -1)
        shape = tuple(size // known if s == -1 else s for s in self.target_shape)
        if math.prod(shape) != size:
            raise ValueError(f"{self.label}: cannot reshape (None, {', '.join(map(str, input_shape))}) "
                             f"({size} values) to {self.target_shape}")
        self.input_shape, self.output_shape = tuple(input_shape), shape
        return self.output_shape

    def config(self):
        return {"target_shape": list(self.target_shape)}

    def forward(self, params, x, training=False, rng=None):
        return x.reshape(x.shape[0], *self.output_shape), x.shape

    def backward(self, params, dout, cache, need_dx=True):
        return dout.reshape(cache), {}


class Dense(Layer):
    """Fully connected: every input feature times every unit's weight. kernel (in, units), bias (units,)."""

    kind = "Dense"
    weights = ("kernel", "bias")

    def __init__(self, units, activation=None, use_bias=True, trainable=True, kernel_regularizer=None, name=None):
        super().__init__(name)
        self.units = arithmetic.check_positive_int(units, "units", self.label)
        self.activation = activations.check(activation, self.label)
        self.use_bias = _check_bool(use_bias, "use_bias", self.label)
        self.trainable = _check_bool(trainable, "trainable", self.label)
        self.kernel_regularizer = regularizers.get(kernel_regularizer, self.label)
        if not self.use_bias:
            self.weights = ("kernel",)

    def build(self, input_shape):
        _check_rank(self, input_shape, 1, "a flat input (N, features); add Flatten() before it")
        self.input_shape, self.output_shape = tuple(input_shape), (self.units,)
        return self.output_shape

    def init(self, rng):
        fan_in = self.input_shape[0]
        limit = math.sqrt(6.0 / (fan_in + self.units))
        params = {"kernel": rng.uniform(-limit, limit, (fan_in, self.units)).astype(np.float32)}
        if self.use_bias:
            params["bias"] = np.zeros(self.units, np.float32)
        return params

    def count_params(self):
        return arithmetic.dense_params(self.input_shape[0], self.units, self.use_bias)

    def mults(self):
        return arithmetic.dense_mults(self.input_shape[0], self.units, self.use_bias)

    def config(self):
        return {"units": self.units, "activation": self.activation, "use_bias": self.use_bias,
                "trainable": self.trainable, "kernel_regularizer": _regularizer_config(self)}

    def forward(self, params, x, training=False, rng=None):
        if x.ndim != 2 or x.shape[1] != params["kernel"].shape[0]:
            raise ValueError(f"{self.label} expects input (N, {params['kernel'].shape[0]}), got {x.shape}")
        z = matmul(x, params["kernel"])
        if self.use_bias:
            z += params["bias"]
        a = activations.forward(self.activation, z, inplace=True)
        return a, (x, a)

    def backward(self, params, dout, cache, need_dx=True):
        x, a = cache
        dz = activations.backward(self.activation, dout, a)
        grads = {"kernel": matmul(x.T, dz)}
        if self.use_bias:
            grads["bias"] = dz.sum(axis=0)
        return (matmul(dz, params["kernel"].T) if need_dx else None), grads


class Dropout(Layer):
    """Inverted dropout: while training, zero each value with probability `rate` and scale the rest by 1/(1-rate),
    so nothing changes at test time."""

    kind = "Dropout"

    def __init__(self, rate, name=None):
        super().__init__(name)
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.integer, np.floating)) \
                or not 0 <= rate < 1:                # NaN fails this too
            raise ValueError(f"{self.label}: rate must be in [0, 1) (a number), got {rate!r:.80}")
        self.rate = float(rate)

    def config(self):
        return {"rate": self.rate}

    def forward(self, params, x, training=False, rng=None):
        if not training or self.rate == 0:
            return x, None
        if rng is None:
            raise ValueError(f"{self.label}: training=True needs an rng (np.random.Generator) for the dropout mask")
        keep = 1.0 - self.rate
        mask = (rng.random(x.shape, dtype=np.float32) < keep).astype(x.dtype) / x.dtype.type(keep)
        return x * mask, mask

    def backward(self, params, dout, cache, need_dx=True):
        return (dout if cache is None else dout * cache), {}


class Activation(Layer):
    """An activation as its own layer, e.g. Activation("relu")."""

    kind = "Activation"

    def __init__(self, activation, name=None):
        super().__init__(name)
        self.activation = activations.check(activation, self.label)

    def config(self):
        return {"activation": self.activation}

    def forward(self, params, x, training=False, rng=None):
        a = activations.forward(self.activation, x)
        return a, a

    def backward(self, params, dout, cache, need_dx=True):
        return activations.backward(self.activation, dout, cache), {}


class Add(Layer):
    """Element-wise sum of tensors of one shape (a residual connection)."""

    kind = "Add"
    merges = True

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) < 2 or any(s != shapes[0] for s in shapes):
            raise ValueError(f"{self.label} needs two or more inputs of one shape, got {shapes}")
        self.input_shape, self.output_shape = shapes, shapes[0]
        return self.output_shape

    def forward(self, params, xs, training=False, rng=None):
        out = xs[0] + xs[1]
        for x in xs[2:]:
            out = out + x
        return out, len(xs)

    def backward(self, params, dout, cache, need_dx=True):
        return [dout] * cache, {}


class Concatenate(Layer):
    """Joins tensors along the channel axis (the last), as Inception-style branches do."""

    kind = "Concatenate"
    merges = True

    def build(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        if len(shapes) < 2 or any(s[:-1] != shapes[0][:-1] for s in shapes):
            raise ValueError(f"{self.label} needs two or more inputs that differ only in channels, got {shapes}")
        self.input_shape, self.output_shape = shapes, shapes[0][:-1] + (sum(s[-1] for s in shapes),)
        return self.output_shape

    def forward(self, params, xs, training=False, rng=None):
        return np.concatenate(xs, axis=-1), [x.shape[-1] for x in xs]

    def backward(self, params, dout, cache, need_dx=True):
        return np.split(dout, np.cumsum(cache)[:-1], axis=-1), {}


KINDS = {cls.kind: cls for cls in (InputLayer, Conv2D, Conv2DTranspose, MaxPooling2D, AveragePooling2D, UpSampling2D,
                                   Flatten, Reshape, Dense, Dropout, Activation, Add, Concatenate)}


def from_config(kind, config, name):
    """Rebuild a layer from its kind and config (the JSON inside a weights file)."""
    if kind not in KINDS:
        raise ValueError(f"unknown layer kind {kind!r} (known: {', '.join(KINDS)})")
    try:
        return KINDS[kind](**config, name=name)
    except TypeError as e:
        raise ValueError(f"bad config for {kind} '{name}': {e}") from None
