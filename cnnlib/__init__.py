"""cnnlib: a small convolutional-network library in NumPy, the companion of the book.

Layers take and return NCHW arrays and share one interface: ``forward(x)`` caches what
``backward(grad_out)`` needs; parameters and their gradients live in ``params``/``grads`` dicts.
Core modules (NumPy only): ``data``, ``layers``, ``losses``, ``model``, ``optim``, ``train``,
``gradcheck``, ``augment``. What only the book needs (plots, widgets, exercise checkers) lives in
:mod:`cnnlib.book`, which the core never imports.
"""

from . import augment, data, functional, gradcheck, layers, losses, model, optim, train
from .augment import Compose, RandomAffine, RandomShift
from .data import (
    MNIST,
    MNISTDownloadError,
    MNISTFileError,
    PreparedMNIST,
    Standardizer,
    as_nchw,
    default_data_dir,
    load_mnist,
    minibatches,
    prepare_mnist,
    standardize,
    to_float,
    train_val_split,
)
from .gradcheck import (
    check_layer_gradients,
    numerical_gradient,
    numerical_gradient_array,
    rel_error,
)
from .layers import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    conv2d,
    conv2d_backward_naive,
    conv2d_naive,
    conv_output_size,
    im2col,
    maxpool2d,
    maxpool2d_backward_naive,
    maxpool2d_naive,
)
from .losses import CrossEntropyLoss, SoftmaxCrossEntropy, log_softmax, softmax
from .model import Sequential, seed_network
from .optim import (
    SGD,
    Adam,
    AdamW,
    CosineAnnealingLR,
    LinearLR,
    SequentialLR,
    StepLR,
)
from .train import History, accuracy, confusion_matrix, evaluate, fit

__version__ = "0.1.0"

__all__ = [
    # modules
    "augment", "data", "functional", "gradcheck", "layers", "losses", "model", "optim", "train",
    # data
    "MNIST", "MNISTDownloadError", "MNISTFileError", "PreparedMNIST", "Standardizer",
    "as_nchw", "default_data_dir", "load_mnist", "minibatches", "prepare_mnist",
    "standardize", "to_float", "train_val_split",
    # gradient checking
    "check_layer_gradients", "numerical_gradient", "numerical_gradient_array", "rel_error",
    # layers
    "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d", "Dropout", "Flatten", "Linear",
    "MaxPool2d", "Module", "ReLU", "conv2d",
    "conv2d_backward_naive", "conv2d_naive", "conv_output_size", "im2col", "maxpool2d",
    "maxpool2d_backward_naive", "maxpool2d_naive",
    # losses, model, optimisers, training
    "CrossEntropyLoss", "SoftmaxCrossEntropy", "log_softmax", "softmax",
    "Sequential", "seed_network", "SGD", "Adam", "AdamW",
    "StepLR", "CosineAnnealingLR", "LinearLR", "SequentialLR",
    # augmentation
    "Compose", "RandomAffine", "RandomShift",
    "History", "accuracy", "confusion_matrix", "evaluate", "fit",
]
