"""``Sequential``: layers run one after another, and the network of the seed article."""

from __future__ import annotations

import copy
import os
import tempfile
import zipfile
from collections.abc import Iterator

import numpy as np

from ._validation import positive_int
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

        With ``input_grad=False`` the first layer is told its input needs no gradient (nothing
        upstream needs it during training; a first convolution then skips its col2im) and None
        is returned; parameter gradients are the same.
        """
        for i in range(len(self.layers) - 1, -1, -1):
            grad_out = self.layers[i].backward(grad_out, input_grad=input_grad or i > 0)
        return grad_out

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
        batch_size = positive_int("batch_size", batch_size)
        x = np.asarray(x)
        with self.evaluating():
            if len(x) == 0:  # no examples: still the right number of columns
                return softmax(self.forward(x), axis=1)
            parts = [
                softmax(self.forward(x[i : i + batch_size]), axis=1)
                for i in range(0, len(x), batch_size)
            ]
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

    def named_buffers(self) -> list[tuple[str, np.ndarray]]:
        """``(name, buffer)`` for every buffer (saved and loaded, never trained)."""
        return [
            (f"{i}.{key}", buffer)
            for i, layer in enumerate(self.layers)
            for key, buffer in layer.buffers.items()
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
        """A copy of every parameter and buffer, keyed ``"<layer index>.<name>"``."""
        state = {name: p.copy() for name, p, _ in self.named_parameters()}
        state.update((name, b.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy ``state`` into the parameters and buffers, in place: all of it or none of it.

        Every entry is checked first (names, real floating-point values, all finite, shapes);
        only when all pass is anything copied, so a bad checkpoint leaves the model as it was.
        """
        own = {name: p for name, p, _ in self.named_parameters()}
        own.update(self.named_buffers())
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        if missing or unexpected:
            raise ValueError(
                "state_dict does not match this model: "
                f"missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}. "
                f"The model expects {sorted(own)}; was it saved from a different architecture?"
            )
        checked = {name: _checked_entry(name, state[name], p) for name, p in own.items()}
        for name, p in own.items():
            p[...] = checked[name]

    def save(self, path: str | os.PathLike) -> None:
        """Save parameters and buffers to an ``.npz`` file, atomically.

        The file is written under an unpredictable temporary name in the same folder and then
        renamed over ``path``, so a crash never leaves a half-written checkpoint and nothing
        that happens to sit at a guessable temporary name is touched.
        """
        path = os.fspath(path)
        if not path.endswith(".npz"):
            raise ValueError(f"save: expected a path ending in .npz, got {path!r}. Add '.npz'.")
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(suffix=".npz.part", prefix=".checkpoint-", dir=folder)
        try:
            with os.fdopen(fd, "wb") as file:
                np.savez(file, **self.state_dict())
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a checkpoint is a normal file
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def load(self, path: str | os.PathLike) -> Sequential:
        """Load parameters saved by :meth:`save` into this model (``allow_pickle=False``)."""
        try:
            data = np.load(path, allow_pickle=False)
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
            if isinstance(exc, FileNotFoundError):
                raise
            raise ValueError(
                f"load: {os.fspath(path)!r} is not an .npz checkpoint written by save() "
                f"({exc}). Pass the file that model.save(path) wrote."
            ) from None
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError(
                f"load: {os.fspath(path)!r} is not an .npz checkpoint written by save() (it "
                f"holds a single array of shape {np.shape(data)}, as np.save writes). Pass the "
                "file that model.save(path) wrote."
            )
        with data:
            try:
                state = {k: data[k] for k in data.files}
            except (ValueError, OSError, zipfile.BadZipFile) as exc:
                raise ValueError(
                    f"load: {os.fspath(path)!r} is not an .npz checkpoint written by save() "
                    f"({exc})."
                ) from None
        self.load_state_dict(state)
        return self


def _checked_entry(name: str, value, target: np.ndarray) -> np.ndarray:
    """``value`` converted to ``target``'s dtype, or an error naming the entry."""
    value = np.asarray(value)
    if value.dtype.kind != "f":
        kind = "complex" if value.dtype.kind == "c" else str(value.dtype)
        raise ValueError(
            f"state_dict entry {name!r}: expected real floating-point values, got {kind} "
            f"values (dtype {value.dtype}). Was the checkpoint written by save()?"
        )
    if value.shape != target.shape:
        raise ValueError(
            f"state_dict entry {name!r}: expected shape {target.shape}, got {value.shape}. "
            "Build the model with the same layer sizes as the one that was saved."
        )
    bad = ~np.isfinite(value)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"state_dict entry {name!r}: expected finite values, got {int(bad.sum())} NaN or "
            f"infinite value(s) (the first at index {where}). The checkpoint was probably saved "
            "after training diverged; load an earlier one."
        )
    return value.astype(target.dtype, copy=False)


def seed_network(rng=0, dtype=np.float32) -> Sequential:
    """The network of the article this book grows from.

    ``Conv2d(1, 8, 5) -> ReLU -> Conv2d(8, 8, 5) -> ReLU -> MaxPool2d(2) -> Flatten ->
    Linear(800, 128) -> ReLU -> Linear(128, 10)``; the softmax lives in the loss. Hidden layers
    use He initialisation; the output layer a small one, so the untrained network's loss is close
    to ln 10 (within 0.01 on MNIST for seeds 0-4).

    Shape
    -----
    input (N, 1, 28, 28) -> logits (N, 10)
    """
    g = np.random.default_rng(rng)  # a Generator passes through unchanged
    return Sequential(
        Conv2d(1, 8, 5, rng=g, dtype=dtype),
        ReLU(),
        Conv2d(8, 8, 5, rng=g, dtype=dtype),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Linear(800, 128, rng=g, dtype=dtype),
        ReLU(),
        # The output layer starts small (gain 0.1, not He's sqrt(2)): the logits start near 0,
        # so every class starts near probability 1/10 and the first loss near ln 10 (chapter 4).
        Linear(128, 10, rng=g, gain=0.1, dtype=dtype),
    )
