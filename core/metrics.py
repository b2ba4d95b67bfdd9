"""Classification metrics: accuracy, the confusion matrix, which examples were missed, per-class recall.

    pred = logits.argmax(axis=1)
    metrics.accuracy(y, pred)                  # fraction correct (pred may also be the logits)
    metrics.count_correct(y, logits)           # how many: what a training loop sums over batches
    cm = metrics.confusion_matrix(y, pred, 10)  # cm[true, predicted] = count
    metrics.misclassified(y, pred)             # indices of the mistakes, in order

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
