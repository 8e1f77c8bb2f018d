"""Interactive widgets for the chapters (ipywidgets).

Every helper returns the widget. Each widget is a :class:`FigureWidget`: a box of controls above
an ``ipywidgets.Image`` holding a PNG rendered with matplotlib. An image widget (rather than a
live matplotlib canvas) keeps working in the static book, where the executed notebook stores the
widget state and the page shows the initial drawing without a kernel.

For tests, every widget keeps the arrays it last drew in ``widget.data`` and its controls in
``widget.controls`` (a dict of name -> ipywidgets control): set ``controls["stride"].value = 2``
and the drawing (``widget.image.value``) and ``widget.data`` update at once.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import matplotlib

from .viz import figure_to_png

__all__ = ["FigureWidget"]


class FigureWidget(widgets.VBox):
    """Controls above a matplotlib drawing that is redrawn whenever a control changes.

    Subclasses build ``controls`` and implement :meth:`draw`, which returns a matplotlib
    figure and fills ``self.data`` with the arrays it drew.
    """

    def __init__(self, controls: dict[str, widgets.Widget], *, layout_rows=None,
                 width: str = "100%", dpi: int = 90, **kwargs: Any) -> None:
        self.controls = controls
        self.data: dict[str, Any] = {}
        self.dpi = dpi
        self.image = widgets.Image(format="png", layout=widgets.Layout(width=width,
                                                                       max_width="900px"))
        rows = layout_rows if layout_rows is not None else [
            widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))]
        super().__init__(children=[*rows, self.image], **kwargs)
        for control in controls.values():
            if hasattr(control, "value"):
                control.observe(self._on_change, names="value")
        self.update()

    def _on_change(self, _change) -> None:
        self.update()

    def draw(self):  # pragma: no cover - abstract
        """Draw the current state into a new figure and return it; fill ``self.data``."""
        raise NotImplementedError

    def update(self) -> None:
        """Redraw from the current control values."""
        import matplotlib.pyplot as plt

        with matplotlib.rc_context({"figure.max_open_warning": 0}):
            fig = self.draw()
            try:
                self.image.value = figure_to_png(fig, dpi=self.dpi)
            finally:
                plt.close(fig)


# ----------------------------------------------------------------------- chapter 1: convolution


# ----------------------------------------------------------------------- chapter 2: pooling


# ----------------------------------------------------------------------- chapter 3: fully connected


# ----------------------------------------------------------------------- chapter 4: softmax


# ----------------------------------------------------------------------- chapter 5: training
