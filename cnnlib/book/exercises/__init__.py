"""Exercise checkers, one module per chapter, sharing one harness.

Call a checker with your function and read the verdict::

    from cnnlib.book.exercises import check_conv2d
    check_conv2d(my_conv2d)
"""

from .convolution import check_conv2d, check_conv2d_backward, check_output_size
from .fully_connected import check_linear_backward, check_linear_forward
from .harness import CheckResult, compare_on_cases
from .making_it_fast import check_conv2d_im2col, check_im2col
from .overfitting import check_batchnorm_forward, check_cosine_lr, check_dropout, check_shift
from .pooling import check_maxpool2d, check_maxpool2d_backward, check_receptive_field
from .softmax import check_cross_entropy, check_softmax, check_softmax_cross_entropy_backward
from .training import check_accuracy, check_adam_step, check_standardize, check_train_val_split

__all__ = [
    "CheckResult", "compare_on_cases",
    "check_conv2d", "check_conv2d_backward", "check_output_size",
    "check_maxpool2d", "check_maxpool2d_backward", "check_receptive_field",
    "check_linear_backward", "check_linear_forward",
    "check_cross_entropy", "check_softmax", "check_softmax_cross_entropy_backward",
    "check_accuracy", "check_adam_step", "check_standardize", "check_train_val_split",
    "check_conv2d_im2col", "check_im2col",
    "check_dropout", "check_batchnorm_forward", "check_shift", "check_cosine_lr",
]
