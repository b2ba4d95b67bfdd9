"""A hand-drawn digit -> an MNIST-like 28x28 image, prepared the way MNIST's digits were.

MNIST's digits were size-normalised to fit a 20x20 box (keeping their aspect ratio), anti-aliased, and placed
in a 28x28 image so that their centre of mass sits at the centre. A drawing gets the same treatment, so the
model sees what it was trained on:

    img = drawing.strokes_to_image([(xs, ys), ...])   # uint8 (28, 28), white strokes on black
    x = datasets.pad_to_32(img[None])                  # (1, 32, 32, 1), LeNet-5's input

Stroke coordinates are any units with y growing downwards (image rows); only their shape matters.
NumPy only (runs under Pyodide).
"""
import numpy as np

SIDE = 28            # MNIST's image side
BOX = 20             # the digit's longest side after size normalisation
PEN = 1.3            # pen radius in output pixels (MNIST strokes are 2-3 pixels wide)
SUPER = 4            # supersampling per output pixel, for anti-aliased edges


def check_strokes(strokes):
    """[(xs, ys), ...] -> list of (K, 2) float arrays; ValueError if empty, ragged or not finite."""
    out = []
    for i, stroke in enumerate(strokes or []):
        try:
            xs, ys = stroke
            pts = np.stack([np.asarray(xs, np.float64), np.asarray(ys, np.float64)], axis=1)
        except (TypeError, ValueError):
            raise ValueError(f"drawing: stroke {i + 1} must be a pair (xs, ys) of equal-length number lists") from None
        if pts.ndim != 2 or not np.isfinite(pts).all():
            raise ValueError(f"drawing: stroke {i + 1} has coordinates that are not finite numbers")
        if len(pts):
            out.append(pts)
    if not out:
        raise ValueError("drawing: the canvas is empty; draw a digit first")
    return out


def _segment_distance(px, a, b):
    """Distance from points px (P, 2) to each segment a[i]-b[i] (S, 2) -> (S, P)."""
    d = b - a                                                     # (S, 2)
    len2 = np.maximum((d * d).sum(axis=1), 1e-12)[:, None]        # (S, 1); a dot is a zero-length segment
    rel = px[None, :, :] - a[:, None, :]                          # (S, P, 2)
    t = np.clip((rel * d[:, None, :]).sum(axis=2) / len2, 0.0, 1.0)
    nearest = rel - t[:, :, None] * d[:, None, :]
    return np.sqrt((nearest * nearest).sum(axis=2))


def render(strokes):
    """Strokes -> float (28, 28) in [0, 1]: the drawing scaled so its longest side spans BOX pixels, centred."""
    strokes = check_strokes(strokes)
    pts = np.concatenate(strokes)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    extent = max(float((hi - lo).max()), 1e-9)
    scale = (BOX - 2 * PEN) / extent                              # the pen's width stays inside the box
    offset = SIDE / 2 - (lo + hi) / 2 * scale                      # centre the bounding box
    fine = SIDE * SUPER
    centres = (np.arange(fine) + 0.5) / SUPER                     # fine pixel centres in output units
    gx, gy = np.meshgrid(centres, centres)
    px = np.stack([gx.ravel(), gy.ravel()], axis=1)
    dist = np.full(len(px), np.inf)
    for s in strokes:
        p = s * scale + offset
        a, b = (p[:-1], p[1:]) if len(p) > 1 else (p, p)
        for i in range(0, len(a), 64):                            # chunks bound the (S, P, 2) temporary
            dist = np.minimum(dist, _segment_distance(px, a[i:i + 64], b[i:i + 64]).min(axis=0))
    # Soft edge over one fine pixel, then average SUPER x SUPER blocks: anti-aliasing like MNIST's.
    ink = np.clip((PEN - dist) * SUPER + 0.5, 0.0, 1.0).reshape(fine, fine)
    return ink.reshape(SIDE, SUPER, SIDE, SUPER).mean(axis=(1, 3))


def center_of_mass_shift(img):
    """Shift a (28, 28) image by whole pixels so its centre of mass is at the centre (zeros shift in)."""
    total = img.sum()
    if total <= 0:
        return img
    rows, cols = np.indices(img.shape)
    cy, cx = (rows * img).sum() / total, (cols * img).sum() / total
    dy, dx = int(round((img.shape[0] - 1) / 2 - cy)), int(round((img.shape[1] - 1) / 2 - cx))
    out = np.zeros_like(img)
    h, w = img.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = img[max(-dy, 0):h - max(dy, 0),
                                                                      max(-dx, 0):w - max(dx, 0)]
    return out


def strokes_to_image(strokes):
    """[(xs, ys), ...] in any units, y downwards -> uint8 (28, 28), white digit on black, MNIST-centred."""
    img = center_of_mass_shift(render(strokes))
    return np.round(img * 255).astype(np.uint8)
