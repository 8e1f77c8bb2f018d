"""Interactive widgets for the chapters, one module per chapter over a small base (``base``).

Every helper returns the widget. The widgets are :class:`BookWidget` (anywidget): a small plain
ES module in ``js/`` draws on the page and computes there what the reader changes, so the
widgets work on the static book too. Their settings are traits: set ``widget.stride = 2`` from
Python and the page redraws, and ``widget.data`` holds what cnnlib computes for the setting.
"""

from .base import PRESET_KERNELS, BookWidget, pack
from .convolution import KernelExplorer, WindowExplainer, kernel_explorer, window_explainer
from .fully_connected import (
    HiddenUnitExplorer,
    hidden_unit_explorer,
    plot_decision_boundaries,
    show_flatten,
)
from .making_it_fast import Im2colExplorer, im2col_explorer
from .pooling import PoolingExplorer, pooling_explorer
from .softmax import DEFAULT_LOGITS, SoftmaxExplorer, show_predictions, softmax_explorer
from .training import digit_inspector, filter_evolution

__all__ = [
    "PRESET_KERNELS", "BookWidget", "pack",
    "KernelExplorer", "WindowExplainer", "kernel_explorer", "window_explainer",
    "PoolingExplorer", "pooling_explorer",
    "HiddenUnitExplorer", "hidden_unit_explorer", "plot_decision_boundaries", "show_flatten",
    "DEFAULT_LOGITS", "SoftmaxExplorer", "show_predictions", "softmax_explorer",
    "digit_inspector", "filter_evolution", "Im2colExplorer", "im2col_explorer",
]
