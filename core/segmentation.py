"""Segmentation data made from MNIST digits, no download: a class for every pixel.

    x, masks = segmentation.single(images, labels)              # (N, 28, 28, 1) in [0, 1], (N, 28, 28) uint8
    x, masks = segmentation.pairs(images, labels, n=1000, seed=0)   # two digits in one 56x56 canvas

Classes: 0 is the background, digit d is class d + 1 (CLASSES = 11). A pixel belongs to a digit where the digit's
ink is brighter than `threshold` (a fraction of full white), else to the background. `images` are MNIST's own
arrays, uint8 (N, 28, 28) as datasets.load_mnist/load_subset give them (floats in [0, 1] work too).

Overlaps in `pairs`: the canvas keeps the brighter of the two digits' pixels (as if drawn in white ink on black,
one over the other), and the mask gives each pixel to the digit whose pixel is the brighter there; on a tie (both
equally bright) the first digit keeps it. So every labelled pixel is labelled by the ink that is seen there.
"""
import numpy as np

CLASSES = 11            # background + the digits 0-9
BACKGROUND = 0


def class_of_digit(digit):
    """The mask class of a digit: d + 1 (0 is the background)."""
    return np.asarray(digit) + 1


def _check(images, labels, threshold, what):
    images, labels = np.asarray(images), np.asarray(labels)
    if images.ndim != 3:
        raise ValueError(f"{what}: images must be (N, H, W) like MNIST's, got shape {images.shape}")
    if labels.shape != (len(images),):
        raise ValueError(f"{what}: {len(images)} images need labels of shape ({len(images)},), got shape "
                         f"{labels.shape}")
    if labels.dtype.kind not in "iu":
        raise ValueError(f"{what}: labels must be digits 0-9 (ints), got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"{what}: labels must be digits 0-9, got values from {labels.min()} to {labels.max()}")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold < 1:
        raise ValueError(f"{what}: threshold must be a number between 0 and 1 (a fraction of white), "
                         f"got {threshold!r}")
    return _unit(images, what), labels


def _unit(images, what):
    """Pixels as float32 in [0, 1] (uint8 divided by 255)."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    if images.dtype.kind != "f" or (images.size and not (images.min() >= 0 and images.max() <= 1)):
        raise ValueError(f"{what}: images must be uint8 or floats in [0, 1], got dtype {images.dtype}")
    return images.astype(np.float32)


def masks(images, labels, threshold=0.5):
    """(N, H, W) uint8 masks: class_of_digit(label) where the pixel is brighter than threshold, else 0."""
    x, labels = _check(images, labels, threshold, "segmentation.masks")
    return np.where(x > threshold, class_of_digit(labels)[:, None, None], BACKGROUND).astype(np.uint8)


def single(images, labels, threshold=0.5):
    """One digit per image: x (N, H, W, 1) float32 in [0, 1] and masks (N, H, W) uint8 (see masks)."""
    x, _ = _check(images, labels, threshold, "segmentation.single")
    return x[..., None], masks(images, labels, threshold)


def pairs(images, labels, n, seed=0, size=56, threshold=0.5, return_sources=False):
    """n canvases of size x size, each with two different MNIST digits pasted at random places (wholly inside,
    free to overlap), deterministic in `seed`: x (n, size, size, 1) float32 in [0, 1], masks (n, size, size)
    uint8. Overlaps: the brighter pixel is seen and labelled; a tie goes to the first digit (module docstring).
    return_sources=True adds {"index": (n, 2) the images used, first and second; "at": (n, 2, 2) their top-left
    corners (row, col)}."""
    x, labels = _check(images, labels, threshold, "segmentation.pairs")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"segmentation.pairs: n must be a positive int (how many canvases), got {n!r}")
    if len(x) < 2:
        raise ValueError(f"segmentation.pairs: needs at least 2 images to pair, got {len(x)}")
    h, w = x.shape[1:]
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < max(h, w):
        raise ValueError(f"segmentation.pairs: size must be an int of at least the digits' {max(h, w)} pixels, "
                         f"got {size!r}")
    rng = np.random.default_rng(seed)
    first = rng.integers(0, len(x), n)
    second = (first + rng.integers(1, len(x), n)) % len(x)         # another image, never the same one
    at = rng.integers(0, [size - h + 1, size - w + 1], (n, 2, 2))   # (canvas, digit, row/col)
    canvas = np.zeros((n, size, size), np.float32)
    owner = np.zeros((n, size, size), np.uint8)                    # the class of the ink seen at each pixel
    for k, idx in enumerate((first, second)):
        for i in range(n):
            r, c = at[i, k]
            patch = canvas[i, r:r + h, c:c + w]
            ink = x[idx[i]]
            wins = ink > patch if k else np.ones_like(ink, bool)    # the second digit wins only where brighter
            patch[wins] = ink[wins]
            owner[i, r:r + h, c:c + w][wins] = class_of_digit(labels[idx[i]])
    out = canvas[..., None], np.where(canvas > threshold, owner, BACKGROUND).astype(np.uint8)
    return (*out, {"index": np.stack([first, second], axis=1), "at": at}) if return_sources else out
