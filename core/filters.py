"""Hand-designed filters of the lecture ("사람이 필터 설계": Gaussian smoothing, Sobel edges, Canny edges).

Before CNNs learned their kernels, people designed them. Every kernel here is a plain 2-D float32 array,
and every filtering goes through the core's own convolution (`core.conv.conv2d`, a cross-correlation
like every deep learning library's), so what the playground shows is exactly what a Conv2D layer computes.

Images are (H, W) grey or (H, W, C) colour; uint8 pixels are scaled to [0, 1] first, so thresholds
(Canny's) mean the same for every input. Only the standard library and NumPy are used (runs under Pyodide).
"""
import numpy as np

from . import conv

GREY_WEIGHTS = np.array([0.2125, 0.7154, 0.0721], np.float32)  # ITU-R BT.709 luma, as skimage.color.rgb2gray


# ---------------------------------------------------------------- kernels

def check_size(size, name):
    """Kernel sizes are odd positive ints, so the kernel has a centre pixel and 'same' output stays aligned."""
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1 or size % 2 == 0:
        raise ValueError(f"{name}: size must be an odd positive integer, got {size!r}")
    return int(size)


def gaussian(size=5, sigma=1.0):
    """(size, size) Gaussian exp(-(x^2 + y^2) / (2 sigma^2)) sampled at integer offsets, normalised to sum 1."""
    size = check_size(size, "gaussian")
    if isinstance(sigma, bool) or not np.isscalar(sigma) or not sigma > 0:
        raise ValueError(f"gaussian: sigma must be a positive number, got {sigma!r}")
    r = np.arange(size, dtype=np.float64) - size // 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2.0 * float(sigma) ** 2))
    return (g / g.sum()).astype(np.float32)


def gaussian_size(sigma):
    """The kernel size scipy/scikit-image use for a Gaussian: radius int(4 sigma + 0.5) (truncate=4)."""
    return 2 * int(4.0 * float(sigma) + 0.5) + 1


def box(size=3):
    """(size, size) mean filter: every weight 1 / size^2."""
    size = check_size(size, "box")
    return np.full((size, size), 1.0 / size ** 2, np.float32)


def sharpen():
    """Identity plus a negative Laplacian: boosts a pixel against its 4 neighbours (weights sum to 1)."""
    return np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], np.float32)


def emboss():
    """A diagonal derivative plus the pixel itself: relief lit from the top-left."""
    return np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], np.float32)


def laplacian():
    """The 4-neighbour discrete Laplacian (second derivative); weights sum to 0, so flat regions give 0."""
    return np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)


def sobel_x():
    """d/dx (left to right): central difference [-1, 0, 1] across, smoothing [1, 2, 1] down.

    As a cross-correlation (what conv2d computes), positive where brightness grows to the right.
    """
    return np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], np.float32)


def sobel_y():
    """d/dy (top to bottom): the transpose of sobel_x; positive where brightness grows downwards."""
    return sobel_x().T.copy()


KERNELS = {
    "gaussian": gaussian,
    "box": box,
    "sharpen": sharpen,
    "emboss": emboss,
    "laplacian": laplacian,
    "sobel_x": sobel_x,
    "sobel_y": sobel_y,
}


def get(name, **params):
    """The kernel for a UI name, e.g. get("gaussian", size=7, sigma=2.0) -> (7, 7) float32."""
    if name not in KERNELS:
        raise ValueError(f"filters.get: unknown kernel {name!r}; choose one of {', '.join(KERNELS)}")
    try:
        return KERNELS[name](**params)
    except TypeError as e:  # an unexpected keyword: say which kernel and what it takes
        raise ValueError(f"filters.get: kernel {name!r} does not take {sorted(params)} ({e})") from None


# ---------------------------------------------------------------- images

def as_float_image(image, owner):
    """(H, W) or (H, W, C) -> float32; uint8 scaled to [0, 1], bool to {0, 1}, floats kept as they are."""
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0:
        raise ValueError(f"{owner}: expects a non-empty image (H, W) or (H, W, C), got shape {image.shape}")
    if image.dtype == np.uint8:
        return image.astype(np.float32) / np.float32(255)
    if image.dtype == np.bool_ or np.issubdtype(image.dtype, np.floating):
        return image.astype(np.float32)
    raise ValueError(f"{owner}: pixels must be uint8, bool or float, got dtype {image.dtype}")


def to_gray(image):
    """(H, W, 3) RGB (or RGBA, alpha ignored) -> (H, W) float32 in [0, 1] with BT.709 luma weights.

    A grey (H, W) image is only converted to float32 (uint8 scaled to [0, 1]).
    """
    img = as_float_image(image, "to_gray")
    if img.ndim == 2:
        return img
    if img.shape[2] not in (3, 4):
        raise ValueError(f"to_gray: expects RGB (H, W, 3) or RGBA (H, W, 4), got shape {img.shape}")
    # an explicit weighted sum, not `@`: BLAS rounds differently for the strided RGB slice of an RGBA image,
    # and the same photo must give the same grey with or without alpha
    w = GREY_WEIGHTS
    return img[:, :, 0] * w[0] + img[:, :, 1] * w[1] + img[:, :, 2] * w[2]


def check_kernel(kernel, owner):
    kernel = np.asarray(kernel, np.float32)
    if kernel.ndim != 2 or kernel.size == 0:
        raise ValueError(f"{owner}: kernel must be a non-empty 2-D array (h, w), got shape {kernel.shape}")
    return kernel


def apply(image, kernel, stride=1, padding="same"):
    """Cross-correlate an image with a 2-D kernel through core.conv: (H, W) -> (Ho, Wo), (H, W, C) -> (Ho, Wo, C).

    A colour image is filtered channel by channel with the same kernel (its channels become the batch of one
    conv2d call). padding is "same" (zeros around, output H x W at stride 1), "valid" or an int, as in Conv2D.
    uint8 images are scaled to [0, 1] first; the result is float32 and not clipped.
    """
    img = as_float_image(image, "filters.apply")
    kernel = check_kernel(kernel, "filters.apply")
    if isinstance(padding, str) and padding.lower() == "valid" and (
            kernel.shape[0] > img.shape[0] or kernel.shape[1] > img.shape[1]):
        raise ValueError(f"filters.apply: kernel {kernel.shape} is larger than the image {img.shape[:2]} "
                         f"with padding='valid'; use padding='same' or a smaller kernel")
    if img.ndim == 2:
        return conv.conv2d(img, kernel, stride=stride, padding=padding)
    x = np.ascontiguousarray(img.transpose(2, 0, 1))[..., None]  # (C, H, W, 1): channels as the batch
    out = conv.conv2d(x, kernel[:, :, None, None], stride=stride, padding=padding)
    return out[..., 0].transpose(1, 2, 0)


def apply_mirrored(gray, kernel):
    """(H, W) -> (H, W), with the border mirrored (d c b a | a b c d) instead of zeros.

    Zero padding would show the image's own border as an edge; mirroring is scipy.ndimage's 'reflect'.
    """
    kh, kw = kernel.shape
    padded = np.pad(gray, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)), mode="symmetric")
    return conv.conv2d(padded, kernel, padding="valid")


def gradients(gray):
    """Sobel derivatives (gx, gy) of a (H, W) float image, border mirrored, each (H, W) float32."""
    return apply_mirrored(gray, sobel_x()), apply_mirrored(gray, sobel_y())


def sobel_magnitude(image):
    """Edge strength sqrt(gx^2 + gy^2) of a grey or colour image (converted with to_gray): (H, W) float32.

    Unnormalised Sobel (a step of height 1 gives 4), the border mirrored so the frame is not an edge.
    """
    gx, gy = gradients(to_gray(image))
    return np.hypot(gx, gy)


# ---------------------------------------------------------------- Canny

def smooth(gray, sigma):
    """Gaussian blur of (H, W) with zero padding, divided by the blur of an all-ones image.

    The division undoes the darkening near the border that the zeros cause (each border pixel becomes a
    weighted mean of the pixels that exist), as scikit-image's canny does.
    """
    k = gaussian(gaussian_size(sigma), sigma)
    return blur_separable(gray, k) / blur_separable(np.ones(gray.shape, np.float32), k)


def blur_separable(gray, kernel2d):
    """conv2d(gray, kernel2d, padding="same") for a Gaussian, as a row pass then a column pass.

    A Gaussian is the outer product of a 1-D Gaussian with itself, so two passes of k weights replace
    k*k per pixel (13 vs 169 for sigma 1.4), and zero padding gives the same result either way.
    """
    row = kernel2d.sum(axis=0)  # the 1-D factor: the 2-D kernel's marginal, sums to 1
    return conv.conv2d(conv.conv2d(gray, row[None, :], padding="same"), row[:, None], padding="same")


def direction_bins(gx, gy):
    """Quantise the gradient direction into 4 bins: 0 = horizontal gradient (vertical edge), 1 = 45 deg
    (down-right), 2 = vertical gradient, 3 = 135 deg (down-left). Image axes: x right, y down."""
    angle = np.rad2deg(np.arctan2(gy, gx)) % 180.0  # a direction and its opposite are one bin
    return (np.floor((angle + 22.5) / 45.0).astype(np.int8)) % 4


# (dy, dx) of the neighbour along the gradient for each bin; the opposite neighbour is (-dy, -dx).
NEIGHBOUR_STEP = ((0, 1), (1, 1), (1, 0), (1, -1))


def shifted(a, dy, dx, fill=0):
    """b[i, j] = a[i + dy, j + dx], `fill` outside: one whole-array slice, no pixel loop."""
    h, w = a.shape
    b = np.full_like(a, fill)
    b[max(0, -dy):h - max(0, dy), max(0, -dx):w - max(0, dx)] = \
        a[max(0, dy):h - max(0, -dy), max(0, dx):w - max(0, -dx)]
    return b


def non_maximum_suppression(magnitude, gx, gy):
    """Keep a pixel only where its magnitude is >= both neighbours across the edge (along the gradient).

    Thins edges to one pixel. Vectorised: one comparison per direction bin over the whole image.
    """
    bins = direction_bins(gx, gy)
    keep = np.zeros(magnitude.shape, bool)
    for b, (dy, dx) in enumerate(NEIGHBOUR_STEP):
        is_max = (magnitude >= shifted(magnitude, dy, dx)) & (magnitude >= shifted(magnitude, -dy, -dx))
        keep |= (bins == b) & is_max
    return keep


def neighbour_pairs(allowed):
    """Every pair of 8-connected pixels of `allowed`, in compact numbering (index into flatnonzero(allowed)).

    Returns a, b (int arrays). Each pair once: 4 of the 8 offsets cover them all (right, down-left, down, down-right).
    """
    h, w = allowed.shape
    pos = np.full(allowed.shape, -1, np.int64)
    pos[allowed] = np.arange(np.count_nonzero(allowed))
    pairs = []
    for dy, dx in ((0, 1), (1, -1), (1, 0), (1, 1)):
        a = pos[:h - dy, max(0, -dx):w - max(0, dx)]
        b = pos[dy:, max(0, dx):w - max(0, -dx) if dx < 0 else w]
        both = (a >= 0) & (b >= 0)
        pairs.append((a[both], b[both]))
    return np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])


def component_roots(n, a, b):
    """Connected components of n nodes joined by edges (a[i], b[i]): each node's root (smallest index reached).

    Vectorised union-find: each round hooks the larger root of every edge whose ends differ onto the
    smaller one (np.minimum.at), then compresses paths by pointer jumping. A few rounds (about log n).
    """
    parent = np.arange(n)
    while True:
        ra, rb = parent[a], parent[b]
        differ = ra != rb
        if not differ.any():
            return parent
        np.minimum.at(parent, np.maximum(ra, rb)[differ], np.minimum(ra, rb)[differ])
        while True:  # parent[i] <= i always, so this reaches the roots without cycles
            jumped = parent[parent]
            if np.array_equal(jumped, parent):
                break
            parent = jumped


def connected_to(seeds, allowed):
    """Pixels of `allowed` that are 8-connected (through `allowed`) to a pixel of `seeds`: (H, W) bool."""
    a, b = neighbour_pairs(allowed)
    roots = component_roots(np.count_nonzero(allowed), a, b)
    good = np.zeros(len(roots), bool)
    good[roots[seeds[allowed]]] = True  # components holding a seed
    out = np.zeros(allowed.shape, bool)
    out[allowed] = good[roots]
    return out


def hysteresis(magnitude, low_threshold, high_threshold, candidates=None):
    """Double threshold: strong pixels (>= high) are edges, and so is every weak one (>= low) connected to them.

    candidates (H, W) bool, if given, limits both to those pixels (the thin ridges non-maximum suppression kept).
    """
    weak = magnitude >= low_threshold
    if candidates is not None:
        weak &= candidates
    return connected_to(weak & (magnitude >= high_threshold), weak)


def canny(image, sigma=1.4, low_threshold=0.1, high_threshold=0.2):
    """Canny edges (H, W) bool: Gaussian blur -> Sobel -> non-maximum suppression -> hysteresis.

    image: (H, W) grey or (H, W, 3) colour (to_gray), uint8 scaled to [0, 1]. The thresholds are on the
    unnormalised Sobel magnitude of that [0, 1] image (a sharp step of full height gives 4), the same
    units as skimage.feature.canny on a float image. The 1-pixel frame is never an edge (its neighbours
    across the border are unknown). The Gaussian has radius int(4 sigma + 0.5), as scipy's.
    """
    if isinstance(sigma, bool) or not np.isscalar(sigma) or not sigma > 0:
        raise ValueError(f"canny: sigma must be a positive number, got {sigma!r}")
    if not 0 <= low_threshold <= high_threshold:
        raise ValueError(f"canny: need 0 <= low_threshold <= high_threshold, got {low_threshold} and {high_threshold}")
    gray = to_gray(image)
    if min(gray.shape) < 3:
        raise ValueError(f"canny: the image must be at least 3x3, got shape {gray.shape}")
    gx, gy = gradients(smooth(gray, sigma))
    magnitude = np.hypot(gx, gy)
    candidates = non_maximum_suppression(magnitude, gx, gy)
    candidates[[0, -1], :] = False
    candidates[:, [0, -1]] = False
    return hysteresis(magnitude, low_threshold, high_threshold, candidates)


# ---------------------------------------------------------------- designed kernels beside learned ones
# The Networks tab starts LeNet-5's C1 from designed kernels (frozen or trainable) and puts each learned 5x5 filter
# beside the designed kernel nearest to it.

DESIGNED = ("gaussian", "sobel_x", "sobel_y", "laplacian", "sharpen")
STARTS = DESIGNED + ("random",)      # C1's six filters: the five designed kernels and one drawn at random


def centred(kernel, size):
    """A (h, w) kernel zero-padded about its centre to (size, size) float32: a 3x3 Sobel as a 5x5 filter computes
    the same map with 'same' padding. ValueError if the kernel is larger than size or not odd-sized."""
    kernel = check_kernel(kernel, "filters.centred")
    size = check_size(size, "filters.centred")
    h, w = kernel.shape
    if h > size or w > size or h % 2 == 0 or w % 2 == 0:
        raise ValueError(f"filters.centred: kernel {h}x{w} does not sit centred in {size}x{size} "
                         f"(odd sides up to {size})")
    out = np.zeros((size, size), np.float32)
    top, left = (size - h) // 2, (size - w) // 2
    out[top:top + h, left:left + w] = kernel
    return out


def unit(kernel):
    """kernel / its L2 norm (a zero kernel stays zero): the kernel's shape with its scale taken out."""
    kernel = np.asarray(kernel, np.float32)
    norm = float(np.linalg.norm(kernel))
    return kernel / np.float32(norm) if norm > 0 else kernel.copy()


def start_kernel(name, size=5, seed=0):
    """One of STARTS as a (size, size) float32 kernel of unit L2 norm; "random" draws normal weights from `seed`.
    The Gaussian is sampled at size x size (sigma 1); the 3x3 kernels are centred()."""
    if name not in STARTS:
        raise ValueError(f"filters.start_kernel: unknown kernel {name!r}; choose one of {', '.join(STARTS)}")
    size = check_size(size, "filters.start_kernel")
    if name == "random":
        return unit(np.random.default_rng(seed).standard_normal((size, size)))
    kernel = gaussian(size) if name == "gaussian" else KERNELS[name]()
    return unit(centred(kernel, size))


def kernel_distance(a, b):
    """||a/|a| - b/|b||| in [0, 2] for two kernels of one shape: 0 the same shape, sqrt(2) unrelated (orthogonal),
    2 opposite. Scale-free, because a learned filter's weights are ~0.1 where a Sobel's are 2."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.shape != b.shape:
        raise ValueError(f"filters.kernel_distance: kernels of shapes {a.shape} and {b.shape} cannot be compared")
    return float(np.linalg.norm(unit(a) - unit(b)))


def nearest_designed(kernel):
    """(name, sign, distance): the DESIGNED kernel, or its negative (sign -1: a dark-to-light edge where Sobel finds
    light-to-dark), nearest to a square odd-sized kernel (h, h) by kernel_distance."""
    kernel = check_kernel(kernel, "filters.nearest_designed")
    size = kernel.shape[0]
    if kernel.shape[1] != size or size % 2 == 0:
        raise ValueError(f"filters.nearest_designed: expects a square odd-sized kernel, got shape {kernel.shape}")
    candidates = [(name, sign, kernel_distance(kernel, sign * start_kernel(name, size)))
                  for name in DESIGNED for sign in (1, -1)]
    return min(candidates, key=lambda c: c[2])
