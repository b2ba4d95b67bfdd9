"""The layer math of core/layers.py in jax.numpy and lax: forward only, jax.grad supplies every backward.

One function per layer kind, `fn(layer, params, x, training, key) -> out`, reading the layer's configuration
(pads, strides, activation) from the core layer object itself, so the two engines cannot drift apart on settings.
Shapes are NHWC activations and HWIO kernels, as in the NumPy core.

On XLA's CPU backend some convolutions take other forms that give the same numbers faster (measured, see
core/jax/README.md): a one-channel input (LeNet's C1) is one product with the image's shifted copies, and an
unpadded convolution of few channels (LeNet's C3) gets its input gradient as a product and col2im, both over chunks
of the batch. On GPU/TPU lax.conv_general_dilated does it all.
"""
import functools

import jax
import jax.numpy as jnp
from jax import lax

from .. import arithmetic, pooling

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
    strides, pads = tuple(layer.strides), tuple(map(tuple, layer.pads))
    if x.shape[1:3] == (kh, kw) and pads == ((0, 0), (0, 0)):
        # The kernel covers the whole input, so there is one output pixel: the layer is a Dense layer on the
        # flattened input (LeNet's C5, as the lecture points out). Same numbers as the convolution, but as a dot
        # its gradients ran 3x faster on XLA's CPU backend (the whole LeNet-5 step 20% faster at batch 32).
        z = (x.reshape(x.shape[0], kh * kw * c) @ kernel.reshape(kh * kw * c, f))[:, None, None, :]
    elif not _on_cpu():
        z = _conv(x, kernel, strides, pads)
    elif c == 1:
        z = conv_one_channel(x, kernel, strides, pads)
    elif pads == ((0, 0), (0, 0)) and c <= _COL2IM_MAX_CHANNELS:
        z = conv_cpu(x, kernel, strides, pads)
    else:
        z = _conv(x, kernel, strides, pads)
    if layer.use_bias:
        z = z + params["bias"]
    return activation(layer.activation, z)


# -- the convolution on XLA's CPU backend --------------------------------------------------------------------------
# Both forms below bound their scratch arrays (shifted copies, columns). XLA:CPU mallocs one scratch buffer per step,
# and once it grows past glibc's mmap limit (32 MiB at most) every step pays for fresh pages: LeNet-5 at batch 256
# with all of C1's copies alive took 11,000 page faults and twice the time per step.
_COPIES_BYTES = 2 << 20      # one-channel convolution: images per chunk (1-2 MiB measured best, 4 MiB faulted)
_COLUMNS_BYTES = 2 << 20     # col2im input gradient: images per chunk (LeNet's C3: 34 images)
# col2im wins over XLA's input gradient for "valid" convolutions with few input channels, where XLA convolves a
# gradient padded by kernel-1 into few output columns (batch 32, 14x14, 5x5: 3.6x faster at 6 channels, 1.2x at 16
# and 32; 3x3: 1.0x at 16). With "same" padding it lost (0.3-0.8x at 8-32 channels; VGG/ResNet steps 10-40% slower).
_COL2IM_MAX_CHANNELS = 16


def _on_cpu():
    """True when jit compiles for XLA's CPU backend (read at trace time)."""
    return jax.default_backend() == "cpu"


def _conv(x, kernel, strides, pads):
    return lax.conv_general_dilated(x, kernel, strides, list(pads), dimension_numbers=_DIMS)


def _span(size, k, stride):
    """Number of window positions along one axis of a padded input, and the slice end offset they cover."""
    n = arithmetic.positions(size, k, stride)
    return n, (n - 1) * stride + 1


def _shifted_copies(img, kh, kw, strides):
    """img (n, Hp, Wp) padded -> (kh*kw, n*Ho*Wo): row i*kw + j is the image shifted by (i, j) at the strides."""
    (ho, dh), (wo, dw) = _span(img.shape[1], kh, strides[0]), _span(img.shape[2], kw, strides[1])
    copies = jnp.stack([img[:, i:i + dh:strides[0], j:j + dw:strides[1]] for i in range(kh) for j in range(kw)])
    return copies.reshape(kh * kw, -1), ho, wo


def _padded_chunks(x, kernel, pads):
    """x (N, H, W, 1) -> padded images (N, Hp, Wp) and how many images' shifted copies fit in _COPIES_BYTES."""
    kh, kw = kernel.shape[:2]
    img = jnp.pad(x[..., 0], ((0, 0), *pads)) if any(map(any, pads)) else x[..., 0]
    ho, wo = arithmetic.output_hw(img.shape[1:], (kh, kw), (1, 1))    # at stride 1: an upper bound for any stride
    per_image = kh * kw * ho * wo * img.dtype.itemsize
    return img, max(1, min(img.shape[0], _COPIES_BYTES // per_image))


def _over_chunks(fn, per_chunk, *arrays):
    """fn over consecutive chunks of per_chunk images of every array -> ([results], full).

    One chunk after the other: when there are several full chunks, they go through lax.map (a loop, so only one
    chunk's scratch is alive at a time; a Python loop of chunks let XLA keep them all alive) and results[0] comes
    back stacked (full // per_chunk, ...); a remainder of fewer images is one more call, appended.
    """
    n = arrays[0].shape[0]
    full = n - n % per_chunk
    results = []
    if full == per_chunk:
        results.append(fn(*(a[:full] for a in arrays)))
    elif full:
        stacked = lax.map(lambda parts: fn(*parts), tuple(a[:full].reshape(full // per_chunk, per_chunk, *a.shape[1:])
                                                           for a in arrays))
        results.append(stacked)
    if full < n:
        results.append(fn(*(a[full:] for a in arrays)))
    return results, full


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv_one_channel(x, kernel, strides, pads):
    """A convolution of a one-channel input (N, H, W, 1) -> (N, Ho, Wo, F) as kernel^T (F, kh*kw) @ the
    image's kh*kw shifted copies (kh*kw, n*Ho*Wo), a chunk of n images at a time.

    XLA:CPU's convolution computes it as (N*Ho*Wo, kh*kw) @ (kh*kw, F), whose F (6 in LeNet's C1) columns run at
    a tenth of the core's speed: 0.8 ms of a 2.8 ms LeNet-5 step at batch 32. Turned around, with N*Ho*Wo as the
    long side, it takes about 0.1 ms with the copies. The kernel gradient is the same kind of product; its copies
    are made again (cheap) rather than kept from the forward pass, so that the step's scratch memory stays small.
    """
    kh, kw, _, f = kernel.shape
    weights = kernel.reshape(kh * kw, f).T
    img, per_chunk = _padded_chunks(x, kernel, pads)

    def product(part):
        copies, ho, wo = _shifted_copies(part, kh, kw, strides)
        return (weights @ copies).reshape(f, part.shape[0], ho, wo).transpose(1, 2, 3, 0)

    results, full = _over_chunks(product, per_chunk, img)
    if full > per_chunk:
        results[0] = results[0].reshape(full, *results[0].shape[2:])
    return results[0] if len(results) == 1 else jnp.concatenate(results)


def _one_channel_fwd(x, kernel, strides, pads):
    return conv_one_channel(x, kernel, strides, pads), (x, kernel)


def _one_channel_bwd(strides, pads, residuals, g):
    """dkernel = sum over chunks of copies (kh*kw, M) @ g (M, F); dx as every convolution here (XLA drops it when
    the input is the data, as for LeNet's C1)."""
    x, kernel = residuals
    kh, kw, _, f = kernel.shape
    img, per_chunk = _padded_chunks(x, kernel, pads)

    def product(part, g_part):
        return _shifted_copies(part, kh, kw, strides)[0] @ g_part.reshape(-1, f)

    results, full = _over_chunks(product, per_chunk, img, g)
    if full > per_chunk:
        results[0] = results[0].sum(axis=0)
    dk = results[0] if len(results) == 1 else results[0] + results[1]
    return input_gradient(g, kernel, strides, pads, x.shape), dk.reshape(kernel.shape)


conv_one_channel.defvjp(_one_channel_fwd, _one_channel_bwd)


def col2im_input_gradient(g, kernel, strides, pads, in_shape):
    """dL/dx of a convolution: cols = g (N*Ho*Wo, F) @ kernel^T (F, kh*kw*C), each window's column block added back
    where the window read the input (col2im), then the padding cut off. g (N, Ho, Wo, F) -> (N, H, W, C)."""
    kh, kw, c, f = kernel.shape
    n, ho, wo, _ = g.shape
    cols = (g.reshape(-1, f) @ kernel.reshape(kh * kw * c, f).T).reshape(n, ho, wo, kh, kw, c)
    (top, bottom), (left, right) = pads
    out = jnp.zeros((n, in_shape[1] + top + bottom, in_shape[2] + left + right, c), g.dtype)   # in_shape: (_, H, W, C)
    dh, dw = (ho - 1) * strides[0] + 1, (wo - 1) * strides[1] + 1
    for i in range(kh):
        for j in range(kw):
            out = out.at[:, i:i + dh:strides[0], j:j + dw:strides[1], :].add(cols[:, :, :, i, j, :])
    return out[:, top:top + in_shape[1], left:left + in_shape[2], :]


def input_gradient(g, kernel, strides, pads, x_shape):
    """dL/dx (N, H, W, C) of a convolution from g = dL/dz (N, Ho, Wo, F): col2im_input_gradient over chunks of
    images whose columns take about _COLUMNS_BYTES, one chunk after the other."""
    per_image = g.shape[1] * g.shape[2] * kernel.size // kernel.shape[3] * g.dtype.itemsize
    per_chunk = max(1, min(g.shape[0], _COLUMNS_BYTES // per_image))
    results, full = _over_chunks(lambda part: col2im_input_gradient(part, kernel, strides, pads, x_shape),
                                 per_chunk, g)
    if full > per_chunk:
        results[0] = results[0].reshape(full, *x_shape[1:])
    return results[0] if len(results) == 1 else jnp.concatenate(results)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def conv_cpu(x, kernel, strides, pads):
    """lax.conv_general_dilated, whose input gradient is input_gradient (a product and col2im) instead of XLA's;
    conv2d uses it for unpadded convolutions of at most _COL2IM_MAX_CHANNELS input channels.

    XLA:CPU computes the input gradient as a convolution over the fully padded output gradient (LeNet's C3: a
    10x10 -> 14x14 "full" convolution), 0.8 ms of a 2.8 ms step at batch 32; the product and col2im take 0.2 ms.
    The forward pass and the kernel gradient stay XLA's (they run well: C3's forward at about 70 GFLOP/s).
    """
    return _conv(x, kernel, strides, pads)


def _conv_cpu_fwd(x, kernel, strides, pads):
    return _conv(x, kernel, strides, pads), (x, kernel)


def _conv_cpu_bwd(strides, pads, residuals, g):
    x, kernel = residuals
    dk = jax.vjp(lambda k: _conv(x, k, strides, pads), kernel)[1](g)[0]
    return input_gradient(g, kernel, strides, pads, x.shape), dk


conv_cpu.defvjp(_conv_cpu_fwd, _conv_cpu_bwd)


def conv_transpose(layer, params, x, training=False, key=None):
    """x (N, H, W, C) -> (N, Ho, Wo, F) with kernel (kh, kw, F, C), as the core's Conv2DTranspose: the input
    gradient of the convolution this kernel makes, written as one forward convolution: the input dilated by the
    strides (lhs_dilation), padded by kh-1 (the "full" convolution) less the pads that convolution had, with the
    kernel flipped and its channels swapped; then the bias and the activation."""
    kernel = params["kernel"]
    kh, kw = kernel.shape[:2]
    pads = []
    for n, length, k, s in zip(x.shape[1:3], layer.output_shape[:2], (kh, kw), layer.strides):
        before = arithmetic.pad_amounts(length, k, s, layer.padding)[0]
        # positions before..before+length-1 of the full output ((n-1)*s + k long): crop or extend each end
        pads.append((k - 1 - before, before + length - (n - 1) * s - 1))
    z = lax.conv_general_dilated(x, kernel[::-1, ::-1].transpose(0, 1, 3, 2), (1, 1), pads,
                                 lhs_dilation=tuple(layer.strides), dimension_numbers=_DIMS)
    if layer.use_bias:
        z = z + params["bias"]
    return activation(layer.activation, z)


def upsampling(layer, params, x, training=False, key=None):
    """Every pixel repeated size[0] x size[1] times (nearest neighbour)."""
    return jnp.repeat(jnp.repeat(x, layer.size[0], axis=1), layer.size[1], axis=2)


def _pool_pads(layer):
    """[(0, 0), (top, bottom), (left, right), (0, 0)] as the core layer computed them for its input."""
    return [(0, 0), *layer.pads, (0, 0)]


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
    if pooling.tiled(x.shape[1:3], layer.pool_size, layer.strides, layer.pads):    # LeNet's 2x2 pools
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


def reshape(layer, params, x, training=False, key=None):
    """(N, *input_shape) -> (N, *target_shape) in the core's row-major order."""
    return x.reshape(x.shape[0], *layer.output_shape)


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
    "Conv2DTranspose": conv_transpose,
    "UpSampling2D": upsampling,
    "MaxPooling2D": max_pool,
    "AveragePooling2D": avg_pool,
    "Dense": dense,
    "Flatten": flatten,
    "Reshape": reshape,
    "Dropout": dropout,
    "Activation": activation_layer,
    "Add": add,
    "Concatenate": concatenate,
}
