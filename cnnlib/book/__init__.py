"""What only the book needs: plots, widgets and exercise checkers.

The core of :mod:`cnnlib` (layers, losses, models, optimisers, training, data) is NumPy only and
never imports this package. Here live:

* :mod:`cnnlib.book.article` - what the seed article reports (accuracy, hours, settings);
* :mod:`cnnlib.book.plots` - matplotlib figures (filters, feature maps, training curves, ...);
* :mod:`cnnlib.book.widgets` - the interactive widgets of each chapter;
* :mod:`cnnlib.book.exercises` - the self-checking exercise checkers, one module per chapter.

Submodules are imported on first use, so ``import cnnlib.book`` stays cheap.
"""

import importlib

__all__ = ["article", "plots", "widgets", "exercises"]


def __getattr__(name):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
