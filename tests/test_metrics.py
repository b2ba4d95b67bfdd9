"""core.metrics: accuracy and the count of correct predictions that every trainer sums, the confusion matrix,
the mistakes, per-class recall, softmax; labels as ints or one-hot, bad labels refused by name."""
import numpy as np
import pytest

from core import metrics


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    cm = metrics.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], 3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    assert metrics.accuracy([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2]) == pytest.approx(4 / 6)
    np.testing.assert_array_equal(metrics.misclassified([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2]), [1, 4])
    np.testing.assert_allclose(metrics.per_class_recall(cm), [0.5, 1.0, 2 / 3])
    onehot = np.eye(3)[[0, 1, 2]]
    assert metrics.accuracy(onehot, [0, 1, 1]) == pytest.approx(2 / 3)


def test_confusion_matrix_matches_a_loop():
    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    loop = np.zeros((10, 10), int)
    for a, b in zip(t, p):
        loop[a, b] += 1
    np.testing.assert_array_equal(metrics.confusion_matrix(t, p, 10), loop)


@pytest.mark.parametrize("args, why", [(([0, 1], [0]), "2 labels but y_pred has 1"),
                                       (([0, 5], [0, 1], 3), "y_true has labels outside 0..2"),
                                       (([0.5], [0]), "whole numbers")])
def test_metrics_refuse_bad_labels(args, why):
    with pytest.raises(ValueError, match=why):
        metrics.confusion_matrix(*args)


def test_softmax_is_stable_and_normalised():
    p = metrics.softmax(np.array([[1000.0, 0.0], [0.0, 0.0]]))
    np.testing.assert_allclose(p, [[1.0, 0.0], [0.5, 0.5]])


def test_count_correct_and_accuracy_take_logits_or_classes():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 0.0, 5.0], [1.0, 3.0, 2.0], [0.3, 0.2, 0.1]])
    y = np.array([0, 2, 2, 0])                                    # argmax: 0, 2, 1, 0 -> three right
    assert metrics.count_correct(y, logits) == 3 and type(metrics.count_correct(y, logits)) is int
    assert metrics.accuracy(y, logits) == metrics.accuracy(y, [0, 2, 1, 0]) == 0.75
    assert metrics.count_correct(np.eye(3)[y], logits) == 3       # one-hot labels
    assert metrics.accuracy([], []) == 0.0 and metrics.count_correct([], []) == 0
    with pytest.raises(ValueError, match="y_true has 2 labels but y_pred has 4"):
        metrics.count_correct([0, 1], logits)


def test_confusion_matrix_takes_int32_and_int64_labels():
    """Pyodide's NumPy indexes with int32: labels of either width must count the same."""
    a = metrics.confusion_matrix(np.array([1, 2], np.int64), np.array([1, 0], np.int32), 3)
    np.testing.assert_array_equal(a, [[0, 0, 0], [0, 1, 0], [1, 0, 0]])


def test_iou_per_class_and_mean_match_a_hand_count():
    t = np.array([[[0, 0, 1], [1, 2, 2]]])            # (1, 2, 3) masks
    p = np.array([[[0, 1, 1], [1, 2, 0]]])
    per_class, mean = metrics.iou(t, p, 4)
    # class 0: TP 1, FP 1 (a 2 called 0), FN 1 (a 0 called 1) -> 1/3; class 1: TP 2, FP 1 -> 2/3; class 2: 1/2;
    # class 3 is neither present nor predicted -> NaN, left out of the mean
    np.testing.assert_allclose(per_class[:3], [1 / 3, 2 / 3, 1 / 2])
    assert np.isnan(per_class[3])
    assert mean == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    logits = np.eye(4)[p] * 5.0                        # scores (1, 2, 3, 4) predict the same
    np.testing.assert_array_equal(metrics.iou(t, logits, 4)[0][:3], per_class[:3])
    np.testing.assert_array_equal(metrics.iou(np.eye(4)[t], p, 4)[0][:3], per_class[:3])   # one-hot truth
    assert metrics.pixel_accuracy(t, logits) == pytest.approx(4 / 6)
    with pytest.raises(ValueError, match="do not fit"):
        metrics.iou(t, p[:, :1], 4)


@pytest.mark.parametrize("y_shape,out_shape,values,kind", [
    ((5,), (10,), None, "classes"), ((5, 10), (10,), None, "classes"),
    ((5, 4, 4), (4, 4, 3), None, "pixels"), ((5, 4, 4, 3), (4, 4, 3), "one_hot", "pixels"),
    ((5, 4, 4, 3), (4, 4, 3), "random", None), ((5, 4, 4, 1), (4, 4, 1), "random", None),
    ((5, 4, 4), (4, 4, 1), None, None), ((5, 7), (10,), None, None)])
def test_target_kind_says_what_can_be_measured(y_shape, out_shape, values, kind):
    rng = np.random.default_rng(0)
    if values == "one_hot":
        y = np.eye(y_shape[-1])[rng.integers(0, y_shape[-1], y_shape[:-1])]
    elif values == "random":
        y = rng.random(y_shape)
    else:
        y = np.zeros(y_shape, int)
    assert metrics.target_kind(y, out_shape) == kind


def test_batch_counts_add_up_to_the_metrics_of_the_whole_set():
    rng = np.random.default_rng(1)
    masks, logits = rng.integers(0, 3, (6, 4, 4)), rng.standard_normal((6, 4, 4, 3))
    total = {}
    for i in (0, 2, 4):
        total = metrics.add_counts(total, metrics.batch_counts(masks[i:i + 2], logits[i:i + 2]))
    got = metrics.summarize(total)
    assert got == {"pixel_accuracy": pytest.approx(metrics.pixel_accuracy(masks, logits)),
                   "mean_iou": pytest.approx(metrics.iou(masks, logits, 3)[1])}
    y, scores = rng.integers(0, 3, 9), rng.standard_normal((9, 3))
    assert metrics.summarize(metrics.batch_counts(y, scores)) == {"accuracy": metrics.accuracy(y, scores)}
    assert metrics.batch_counts(rng.random((2, 4, 4, 1)), rng.random((2, 4, 4, 1))) == {}
    assert metrics.summarize({}) == {}
