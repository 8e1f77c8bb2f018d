"""Interactive widgets for the chapters, one module per chapter over a small base (``base``).

Every helper returns the widget. Each widget is a :class:`FigureWidget`: a box of controls above
an ``ipywidgets.Image`` holding a PNG rendered with matplotlib.

For tests, every widget keeps the arrays it last drew in ``widget.data`` and its controls in
``widget.controls`` (a dict of name -> ipywidgets control): set ``controls["stride"].value = 2``
and the drawing (``widget.image.value``) and ``widget.data`` update at once.
"""

from .base import PRESET_KERNELS, FigureWidget
from .convolution import KernelExplorer, WindowExplainer, kernel_explorer, window_explainer
from .fully_connected import (
    HiddenUnitExplorer,
    hidden_unit_explorer,
    plot_decision_boundaries,
    show_flatten,
)
from .making_it_fast import im2col_explorer
from .pooling import PoolingExplorer, pooling_explorer
from .softmax import DEFAULT_LOGITS, SoftmaxExplorer, show_predictions, softmax_explorer
from .training import digit_inspector, filter_evolution

__all__ = [
    "PRESET_KERNELS", "FigureWidget",
    "KernelExplorer", "WindowExplainer", "kernel_explorer", "window_explainer",
    "PoolingExplorer", "pooling_explorer",
    "HiddenUnitExplorer", "hidden_unit_explorer", "plot_decision_boundaries", "show_flatten",
    "DEFAULT_LOGITS", "SoftmaxExplorer", "show_predictions", "softmax_explorer",
    "digit_inspector", "filter_evolution", "im2col_explorer",
]
