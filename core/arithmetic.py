"""Layer arithmetic: output sizes, padding, parameter and multiplication counts.

The one place these formulas live; layers, the layer table and the playground all ask here.
"""


def check_positive_int(value, what, owner):
    """Return `value` as an int, or raise ValueError naming `owner` if it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int,)) and not hasattr(value, "__index__"):
        raise ValueError(f"{owner}: {what} must be a positive integer, got {value!r}")
    value = int(value)
    if value < 1:
        raise ValueError(f"{owner}: {what} must be a positive integer, got {value}")
    return value


def pair(value, what, owner):
    """2 -> (2, 2); (2, 3) -> (2, 3); each checked positive."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{owner}: {what} must be an int or a pair of ints, got {value!r}")
        return tuple(check_positive_int(v, what, owner) for v in value)
    v = check_positive_int(value, what, owner)
    return (v, v)


def check_padding(padding, owner):
    """Padding is "valid", "same" or a non-negative int (zero padding on every side)."""
    if isinstance(padding, str):
        p = padding.lower()
        if p not in ("valid", "same"):
            raise ValueError(f"{owner}: padding must be 'valid', 'same' or an int, got {padding!r}")
        return p
    if isinstance(padding, bool) or not hasattr(padding, "__index__") or int(padding) < 0:
        raise ValueError(f"{owner}: padding must be 'valid', 'same' or a non-negative int, got {padding!r}")
    return int(padding)


def pad_amounts(n, k, stride, padding):
    """Zero padding (before, after) along one axis of length n for a window k with this stride.

    "same" follows Keras/TensorFlow: the output has ceil(n / stride) positions and the extra
    pixel of an odd total goes after.
    """
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = -(-n // stride)
        total = max((out - 1) * stride + k - n, 0)
        return total // 2, total - total // 2
    return padding, padding


def positions(n, k, stride):
    """Where a window k fits along an axis of n (padding included): floor((n - k) / stride) + 1, 0 if k > n."""
    return (n - k) // stride + 1 if n >= k else 0


def output_length(n, k, stride, padding):
    """Output positions along one axis of n before padding: positions(n + pads, k, stride)."""
    before, after = pad_amounts(n, k, stride, padding)
    return positions(n + before + after, k, stride)


def output_hw(input_hw, window, stride, padding="valid"):
    """(Ho, Wo) of a window (kh, kw) sliding at stride (sh, sw) over (H, W): output_length along each axis.
    "valid" (the default) for an input that is already padded (the kernels' hot path: no pads to work out)."""
    (h, w), (kh, kw), (sh, sw) = input_hw, window, stride
    if padding != "valid":
        (top, bottom), (left, right) = pad_amounts(h, kh, sh, padding), pad_amounts(w, kw, sw, padding)
        h, w = h + top + bottom, w + left + right
    return positions(h, kh, sh), positions(w, kw, sw)


def window_pads(input_hw, window, stride, padding, owner, what):
    """The zero padding ((top, bottom), (left, right)) for a window (kh, kw) sliding over (H, W), or ValueError
    naming `owner` when the window does not fit the padded input even once (`what` names the window: "kernel")."""
    (h, w), (kh, kw) = input_hw, window
    pads_h, pads_w = pad_amounts(h, kh, stride[0], padding), pad_amounts(w, kw, stride[1], padding)
    if h + sum(pads_h) < kh or w + sum(pads_w) < kw:
        raise ValueError(f"{owner}: {what} {kh}x{kw} is larger than the input {h}x{w} (padding={padding!r}); "
                         f"use padding='same' or a smaller {what}")
    return pads_h, pads_w


def transposed_length(n, k, stride, padding):
    """Keras' output length of a transposed convolution along one axis of n: n*stride + max(k - stride, 0) for
    "valid", n*stride for "same". It is the length whose convolution (k, stride, padding) has n positions, so the
    transposed convolution maps back exactly onto the input of the convolution it transposes."""
    if padding == "same":
        return n * stride
    if padding == "valid":
        return n * stride + max(k - stride, 0)
    raise ValueError(f"transposed convolution: padding must be 'valid' or 'same', got {padding!r}")


def transposed_output_hw(input_hw, window, stride, padding="valid"):
    """(Ho, Wo) of a transposed convolution: transposed_length along each axis."""
    return tuple(transposed_length(n, k, s, padding) for n, k, s in zip(input_hw, window, stride))


def tiles(input_hw, window, stride):
    """True when the windows cover (H, W) exactly, every pixel in one window and no window overlapping another:
    along each axis the window steps by its own size and that size divides the axis, or one window spans it."""
    (h, w), (kh, kw), (sh, sw) = input_hw, window, stride
    return h % kh == 0 and w % kw == 0 and (sh == kh or h == kh) and (sw == kw or w == kw)


def conv_params(kernel_size, in_channels, filters, use_bias=True):
    """k'(k*h*w + 1): every filter has h*w*k weights and one bias (weight sharing)."""
    kh, kw = kernel_size
    return filters * (kh * kw * in_channels + (1 if use_bias else 0))


def conv_mults(output_hw, kernel_size, in_channels, filters, use_bias=True):
    """Multiplications per example, counting the bias as one, as the lecture does: Ho*Wo*(h*w*k+1)*k'."""
    ho, wo = output_hw
    kh, kw = kernel_size
    return ho * wo * (kh * kw * in_channels + (1 if use_bias else 0)) * filters


def conv_transpose_mults(input_hw, output_hw, kernel_size, in_channels, filters, use_bias=True):
    """Multiplications per example of a transposed convolution: every input value times every weight of its
    kernel slice, H*W*C*h*w*k', plus one per output value for the bias (counted as the lecture counts it)."""
    (h, w), (ho, wo), (kh, kw) = input_hw, output_hw, kernel_size
    return h * w * in_channels * kh * kw * filters + (ho * wo * filters if use_bias else 0)


def dense_params(in_features, units, use_bias=True):
    return units * (in_features + (1 if use_bias else 0))


def dense_mults(in_features, units, use_bias=True):
    """A fully connected layer multiplies every input by every unit's weight (+1 for the bias, as above)."""
    return units * (in_features + (1 if use_bias else 0))
