"""``Sequential``: layers run one after another, and the network of the seed article."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator

import numpy as np

from .layers import Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU
from .losses import softmax

__all__ = ["Sequential", "seed_network"]


class Sequential(Module):
    """A stack of layers: ``forward`` runs them in order, ``backward`` in reverse.

    Parameters
    ----------
    *layers : Module

    Examples
    --------
    >>> model = Sequential(Linear(4, 3, rng=0), ReLU(), Linear(3, 2, rng=1))
    >>> model(np.ones((5, 4), dtype=np.float32)).shape
    (5, 2)
    >>> sorted(model.state_dict())
    ['0.bias', '0.weight', '2.bias', '2.weight']
    """

    def __init__(self, *layers: Module) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential expects layers (cnnlib Module instances); argument {i} is "
                    f"{type(layer).__name__}. Did you pass a class instead of an instance, "
                    "e.g. ReLU instead of ReLU()?"
                )
        self.layers = list(layers)

    def __repr__(self) -> str:
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"

    def train(self, mode: bool = True) -> Sequential:
        self.training = bool(mode)
        for layer in self.layers:
            layer.train(mode)
        return self

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    # ------------------------------------------------------------------ passes
    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Backpropagate through every layer; return the gradient for the input.

        With ``input_grad=False`` the first layer skips its input gradient (nothing upstream
        needs it during training) and None is returned; parameter gradients are the same.
        """
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            if i == 0 and not input_grad:
                if not layer.params:  # nothing to learn here and nobody upstream: stop
                    return None
                if isinstance(layer, (Conv2d, Linear)):
                    return layer.backward(grad_out, input_grad=False)
            grad_out = layer.backward(grad_out)
        return grad_out if input_grad else None

    def activations(self, x: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """Run ``x`` through the network and keep every layer's output.

        Returns
        -------
        list of (name, output)
            ``name`` is ``"0: Conv2d(1, 8, kernel_size=5)"`` and so on; ``output`` has the batch
            axis of ``x``.
        """
        out = []
        for i, layer in enumerate(self.layers):
            x = layer.forward(x)
            out.append((f"{i}: {layer!r}", x))
        return out

    def predict_proba(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Class probabilities, computed in batches so memory stays bounded.

        Shape
        -----
        x (N, ...) -> (N, num_classes)
        """
        batch_size = int(batch_size)
        if batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        was_training = self.training
        self.eval()
        try:
            parts = [
                softmax(self.forward(x[i : i + batch_size]), axis=1)
                for i in range(0, len(x), batch_size)
            ]
        finally:
            self.train(was_training)
        if not parts:  # no examples: still the right number of columns
            return softmax(self.forward(x[:0]), axis=1)
        return np.concatenate(parts)

    def predict(self, x: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Predicted class of each example, shape (N,)."""
        return self.predict_proba(x, batch_size).argmax(axis=1)

    # ------------------------------------------------------------------ parameters
    def named_parameters(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """``(name, param, grad)`` for every parameter; names as in PyTorch (``"0.weight"``)."""
        return [
            (f"{i}.{key}", layer.params[key], layer.grads[key])
            for i, layer in enumerate(self.layers)
            for key in layer.params
        ]

    def parameters(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(param, grad)`` array pairs, for the optimisers (which update them in place)."""
        return [(p, g) for _, p, g in self.named_parameters()]

    def zero_grad(self) -> None:
        for layer in self.layers:
            layer.zero_grad()

    def num_parameters(self) -> int:
        """Total number of trainable numbers."""
        return sum(p.size for _, p, _ in self.named_parameters())

    def summary(self, input_shape: tuple[int, ...]) -> str:
        """A table of every layer with its output shape and parameter count.

        ``input_shape`` excludes the batch axis, e.g. ``(1, 28, 28)``.
        """
        x = np.zeros((1, *input_shape), dtype=np.float32)
        rows = [("Layer", "Output shape", "Parameters"), ("input", str(tuple(input_shape)), "")]
        # A copy runs the shapes through, so the layers' caches (a pending backward) survive.
        for i, layer in enumerate(copy.deepcopy(self.layers)):
            x = layer.forward(x)
            count = sum(p.size for p in layer.params.values())
            rows.append((f"{i}: {layer!r}", str(x.shape[1:]), f"{count:,}"))
        rows.append(("total", "", f"{self.num_parameters():,}"))
        widths = [max(len(r[c]) for r in rows) for c in range(3)]
        lines = [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
        lines.insert(1, "-" * len(lines[0]))
        lines.insert(-1, "-" * len(lines[0]))
        return "\n".join(lines)

    # ------------------------------------------------------------------ saving
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter, keyed ``"<layer index>.<name>"``."""
        return {name: p.copy() for name, p, _ in self.named_parameters()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy ``state`` into the parameters, in place. Names and shapes must match exactly."""
        own = {name: p for name, p, _ in self.named_parameters()}
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(
                "state_dict does not match this model: "
                f"missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}. "
                f"The model expects {sorted(own)}; was it saved from a different architecture?"
            )
        for name, p in own.items():
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(
                    f"state_dict entry {name!r} has shape {value.shape}, but the model's "
                    f"parameter has shape {p.shape}. Build the model with the same layer sizes "
                    "as the one that was saved."
                )
        for name, p in own.items():
            p[...] = state[name]

    def save(self, path: str | os.PathLike) -> None:
        """Save the parameters to an ``.npz`` file, atomically (no half-written file)."""
        path = os.fspath(path)
        if not path.endswith(".npz"):
            raise ValueError(f"save() writes an .npz file; got path {path!r}. Add '.npz'.")
        tmp = f"{path}.tmp-{os.getpid()}.npz"
        try:
            np.savez(tmp, **self.state_dict())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def load(self, path: str | os.PathLike) -> Sequential:
        """Load parameters saved by :meth:`save` into this model (``allow_pickle=False``)."""
        with np.load(path, allow_pickle=False) as data:
            self.load_state_dict({k: data[k] for k in data.files})
        return self


def seed_network(rng=0, dtype=np.float32) -> Sequential:
    """The network of the article this book grows from.

    ``Conv2d(1, 8, 5) -> ReLU -> Conv2d(8, 8, 5) -> ReLU -> MaxPool2d(2) -> Flatten ->
    Linear(800, 128) -> ReLU -> Linear(128, 10)``; the softmax lives in the loss.

    Shape
    -----
    input (N, 1, 28, 28) -> logits (N, 10)
    """
    g = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return Sequential(
        Conv2d(1, 8, 5, rng=g, dtype=dtype),
        ReLU(),
        Conv2d(8, 8, 5, rng=g, dtype=dtype),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(800, 128, rng=g, dtype=dtype),
        ReLU(),
        Linear(128, 10, rng=g, dtype=dtype),
    )
