"""Bigger models for full-size runs, in the core's own format (plain core models: the NumPy core can run them too,
and their weights open in the playground). They could move to core/models.py beside lenet5.

The lecture's history goes LeNet-5 -> AlexNet -> VGG -> ResNet. These are their ideas at MNIST/CIFAR size
(28x28 or 32x32 inputs): VGG's stacks of 3x3 convolutions between poolings, and ResNet's residual blocks
(out = relu(F(x) + x), with a 1x1 strided convolution on the shortcut when the shape changes). The core has no
batch normalisation, so the ResNet is kept shallow enough to train without it.
"""
from .. import layers as L
from .. import models


def vgg(input_shape=(28, 28, 1), classes=10, widths=(32, 64, 128), convs_per_stage=2, dense=256, dropout=0.5):
    """VGG-style: per stage `convs_per_stage` 3x3 'same' ReLU convolutions then a 2x2 max pool; then
    Dense(dense) - Dropout - Dense(classes) logits. 28x28 -> 14 -> 7 -> 3 with the default three stages."""
    x = inputs = L.Input(input_shape, name="input")
    for s, width in enumerate(widths, 1):
        for c in range(1, convs_per_stage + 1):
            x = L.Conv2D(width, 3, padding="same", activation="relu", name=f"conv{s}_{c}")(x)
        x = L.MaxPooling2D(2, name=f"pool{s}")(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(dense, activation="relu", name="fc1")(x)
    if dropout:
        x = L.Dropout(dropout, name="dropout")(x)
    return models.Model(inputs, L.Dense(classes, name="logits")(x), name="vgg")


def residual_block(x, width, stride, name):
    """relu(conv3x3(relu(conv3x3(x))) + shortcut(x)); the shortcut is x itself or a 1x1 strided conv."""
    y = L.Conv2D(width, 3, strides=stride, padding="same", activation="relu", name=f"{name}_conv1")(x)
    y = L.Conv2D(width, 3, padding="same", name=f"{name}_conv2")(y)
    shortcut = x
    if stride != 1 or x.shape[-1] != width:
        shortcut = L.Conv2D(width, 1, strides=stride, name=f"{name}_project")(x)
    return L.Activation("relu", name=f"{name}_relu")(L.Add(name=f"{name}_add")([y, shortcut]))


def resnet(input_shape=(28, 28, 1), classes=10, widths=(16, 32, 64), blocks_per_stage=2):
    """ResNet-style (He et al. 2015, CIFAR variant): a 3x3 stem, stages of residual blocks (each later stage halves
    the size and widens), global average pooling (a pool over the whole map), Dense(classes) logits."""
    x = inputs = L.Input(input_shape, name="input")
    x = L.Conv2D(widths[0], 3, padding="same", activation="relu", name="stem")(x)
    for s, width in enumerate(widths, 1):
        for b in range(1, blocks_per_stage + 1):
            stride = 2 if (s > 1 and b == 1) else 1
            x = residual_block(x, width, stride, name=f"stage{s}_block{b}")
    x = L.AveragePooling2D(x.shape[:2], name="global_pool")(x)
    x = L.Flatten(name="flatten")(x)
    return models.Model(inputs, L.Dense(classes, name="logits")(x), name="resnet")


MODELS = {"vgg": vgg, "resnet": resnet}
