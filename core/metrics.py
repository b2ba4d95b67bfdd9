"""Classification metrics: accuracy, the confusion matrix, which examples were missed, per-class recall; per
pixel: pixel accuracy and intersection over union; and what a training loop can measure for a kind of target.

    pred = logits.argmax(axis=1)
    metrics.accuracy(y, pred)                  # fraction correct (pred may also be the logits)
    metrics.count_correct(y, logits)           # how many: what a training loop sums over batches
    cm = metrics.confusion_matrix(y, pred, 10)  # cm[true, predicted] = count
    metrics.misclassified(y, pred)             # indices of the mistakes, in order
    per_class, mean = metrics.iou(masks, logits, 11)   # masks (N, H, W), logits (N, H, W, 11) or ids (N, H, W)
    counts = metrics.batch_counts(y, outputs)  # what a trainer sums per batch; summarize(counts) -> the metrics

Labels are ints (N,); one-hot (N, K) labels are accepted and turned into ints. NumPy only (runs under Pyodide).
"""
import numpy as np


def labels(y, what="labels"):
    """Int labels (N,) from ints (N,) or one-hot / scores (N, K)."""
    y = np.asarray(y)
    if y.ndim == 2:
        return y.argmax(axis=1)
    if y.ndim != 1:
        raise ValueError(f"{what}: expects class indices (N,) or one-hot (N, K), got shape {y.shape}")
    if y.size and y.dtype.kind not in "iu":
        if y.dtype.kind != "f" or not np.all(y == np.round(y)):
            raise ValueError(f"{what}: class indices must be whole numbers, got dtype {y.dtype}")
        y = y.astype(np.int64)
    return y


def _pair(y_true, y_pred):
    t, p = labels(y_true, "y_true"), labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"metrics: y_true has {t.shape[0]} labels but y_pred has {p.shape[0]}")
    return t, p


def count_correct(y_true, y_pred):
    """How many examples' predicted class is the true one (an int): the sum that running accuracies add up."""
    t, p = _pair(y_true, y_pred)
    return int((t == p).sum())


def accuracy(y_true, y_pred):
    """Fraction of examples whose predicted class is the true one (0.0 for no examples).

    y_pred may be class indices (N,) or scores/logits (N, K): their argmax is the prediction."""
    t, p = _pair(y_true, y_pred)
    return float((t == p).mean()) if t.size else 0.0


def confusion_matrix(y_true, y_pred, num_classes=None):
    """(K, K) int64 counts, rows = true class, columns = predicted class (scikit-learn's orientation).

    K is num_classes, else 1 + the largest label seen. Labels outside 0..K-1 raise ValueError.
    """
    t, p = _pair(y_true, y_pred)
    k = int(num_classes) if num_classes is not None else int(max(t.max(initial=-1), p.max(initial=-1)) + 1)
    if k < 1:
        raise ValueError(f"confusion_matrix: num_classes must be >= 1, got {k}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.size and (a.min() < 0 or a.max() >= k):
            raise ValueError(f"confusion_matrix: {name} has labels outside 0..{k - 1} "
                             f"(min {a.min()}, max {a.max()})")
    # One bincount over the flattened (true, predicted) cell index counts every pair at once. bincount wants
    # the platform's index type: int32 under Pyodide (wasm32), where int64 labels would not cast.
    cells = (t.astype(np.int64) * k + p).astype(np.intp)
    return np.bincount(cells, minlength=k * k).reshape(k, k).astype(np.int64)


def misclassified(y_true, y_pred, limit=None):
    """Indices (int64, ascending) of examples predicted wrong; at most `limit` of them."""
    t, p = _pair(y_true, y_pred)
    idx = np.flatnonzero(t != p)
    return idx if limit is None else idx[:limit]


def per_class_recall(cm):
    """Recall of each class from a confusion matrix: diagonal / row sum (NaN for a class with no examples)."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"per_class_recall: expects a square confusion matrix, got shape {cm.shape}")
    rows = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(rows > 0, np.diag(cm) / rows, np.nan)


def softmax(logits):
    """Class probabilities (N, K) from logits (N, K), computed stably (max subtracted first)."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2:
        raise ValueError(f"softmax: expects logits (N, K), got shape {z.shape}")
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# -- per pixel ----------------------------------------------------------------------------------------------------

def _pixel_pair(y_true, y_pred):
    """Flat int class ids (M,) of true and predicted pixels. Told apart by rank: y_true masks (N, ...) with y_pred
    ids of the same shape or scores (N, ..., K) (argmax over the last axis); or y_true one-hot (N, ..., K) with
    y_pred ids (N, ...)."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if p.ndim == t.ndim + 1:
        p = p.argmax(axis=-1)
    if t.ndim == p.ndim + 1:
        t = t.argmax(axis=-1)
    if t.shape != p.shape:
        raise ValueError(f"metrics: true masks of shape {t.shape} do not fit predictions of shape {p.shape}")
    return labels(t.reshape(-1), "y_true"), labels(p.reshape(-1), "y_pred")


def iou_from_confusion(cm):
    """(per-class IoU (K,), mean IoU) from a confusion matrix: TP / (TP + FP + FN) per class, NaN for a class
    neither present nor predicted; the mean is over the classes that have a value (NaN if none has)."""
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"iou: expects a square confusion matrix, got shape {cm.shape}")
    tp = np.diag(cm)
    union = cm.sum(axis=0) + cm.sum(axis=1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(union > 0, tp / union, np.nan)
    present = ~np.isnan(per_class)
    return per_class, (float(per_class[present].mean()) if present.any() else float("nan"))


def iou(y_true, y_pred, num_classes):
    """Intersection over union per class and its mean, for segmentation: (per_class (K,), mean).

    y_true: masks of class ids (N, H, W) (any (N, ...)), with y_pred ids of the masks' shape or per-pixel
    scores/logits (N, H, W, K); or y_true one-hot (N, H, W, K) with y_pred ids (N, H, W). A class neither in y_true nor predicted gets NaN and is left out of
    the mean."""
    t, p = _pixel_pair(y_true, y_pred)
    return iou_from_confusion(confusion_matrix(t, p, num_classes))


def pixel_accuracy(y_true, y_pred):
    """Fraction of pixels whose predicted class is the true one; shapes as iou."""
    t, p = _pixel_pair(y_true, y_pred)
    return float((t == p).mean()) if t.size else 0.0


# -- what a trainer measures -------------------------------------------------------------------------------------

def _is_one_hot(y):
    """True for rows (last axis) of numbers in [0, 1] summing to 1 (one-hot, or probabilities)."""
    y = np.asarray(y)
    if y.dtype.kind not in "biuf" or y.shape[-1] < 2:
        return False
    return bool(np.all((y >= 0) & (y <= 1)) and np.all(np.abs(y.sum(axis=-1) - 1) <= 1e-4))


def target_kind(y, output_shape):
    """What can be measured of outputs (N, *output_shape) against targets y, told by shapes (and, for targets of
    the outputs' own shape, by whether they are one-hot):

    "classes": one class per example, outputs (N, K) with ids (N,) or one-hot/scores (N, K);
    "pixels": a class per pixel, outputs (N, ..., K) with K > 1 and id masks (N, ...) or one-hot (N, ..., K);
    None: nothing but the loss (a regression target such as an autoencoder's input image, or a single output
    channel, which holds no choice of class)."""
    ys, out = tuple(np.shape(y))[1:], tuple(output_shape)
    if len(out) == 1:
        return "classes" if ys in ((), out) else None
    if out[-1] < 2:
        return None
    if ys == out[:-1] or (ys == out and _is_one_hot(y)):
        return "pixels"
    return None


def batch_counts(y, outputs, kind=None):
    """What a trainer sums over batches: {"correct", "predictions"} for "classes" (examples predicted right, and
    how many were predicted), plus "confusion" (K, K) for "pixels" (pixels); {} when nothing but the loss can be
    measured. kind: target_kind(y, outputs.shape[1:]) unless given."""
    kind = target_kind(y, np.shape(outputs)[1:]) if kind is None else kind
    if kind == "classes":
        return {"correct": count_correct(y, outputs), "predictions": len(outputs)}
    if kind == "pixels":
        k = np.shape(outputs)[-1]
        masks = np.asarray(y)
        if masks.shape == np.shape(outputs):     # one-hot targets
            masks = masks.argmax(axis=-1)
        t, p = _pixel_pair(masks, outputs)
        cm = confusion_matrix(t, p, k)
        return {"correct": int(np.trace(cm)), "predictions": int(t.size), "confusion": cm}
    return {}


def add_counts(total, counts):
    """total + counts, key by key (a new dict; total may be empty)."""
    return {k: total[k] + v if k in total else v for k, v in counts.items()}


def summarize(counts):
    """The metrics from summed batch_counts: {"accuracy"} for classes, {"pixel_accuracy", "mean_iou"} per pixel,
    {} for a regression. These are the names fit's History and evaluate(return_dict=True) use."""
    if "confusion" in counts:
        return {"pixel_accuracy": counts["correct"] / counts["predictions"],
                "mean_iou": iou_from_confusion(counts["confusion"])[1]}
    if "correct" in counts:
        return {"accuracy": counts["correct"] / counts["predictions"]}
    return {}
