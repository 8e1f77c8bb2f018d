"""Optimisers: plain/momentum SGD and Adam, with PyTorch's update rules.

Both take ``model.parameters()``, a list of ``(param, grad)`` array pairs, and update the
parameters in place.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Optimizer", "SGD", "Adam"]


class Optimizer:
    """Base class: holds ``(param, grad)`` pairs; ``zero_grad()`` clears the gradients."""

    def __init__(self, params, lr: float) -> None:
        self.params = [(p, g) for p, g in params]
        if not self.params:
            raise ValueError("optimizer got an empty parameter list; pass model.parameters().")
        for i, (p, g) in enumerate(self.params):
            if p.shape != g.shape:
                raise ValueError(
                    f"parameter {i} has shape {p.shape} but its gradient has shape {g.shape}; "
                    "pass model.parameters(), which pairs each parameter with its gradient."
                )
        if not lr > 0:
            raise ValueError(f"learning rate must be positive, got lr={lr!r}.")
        self.lr = float(lr)

    def zero_grad(self) -> None:
        for _, g in self.params:
            g.fill(0)

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's form).

    ``v = momentum * v + grad`` (``v = grad`` on the first step), ``param -= lr * v``.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0) -> None:
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}.")
        self.momentum = float(momentum)
        self._velocity = [None] * len(self.params)

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum})"

    def step(self) -> None:
        for i, (p, g) in enumerate(self.params):
            if self.momentum:
                v = self._velocity[i]
                if v is None:
                    v = self._velocity[i] = g.copy()
                else:
                    v *= self.momentum
                    v += g
                g = v
            p -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2014) with bias correction, as ``torch.optim.Adam``.

    For step ``t = 1, 2, ...`` and each parameter (chapter 5)::

        m = beta1 * m + (1 - beta1) * grad          # first moment, kept across steps
        v = beta2 * v + (1 - beta2) * grad**2       # second moment, kept across steps
        m_hat = m / (1 - beta1**t)                  # bias correction (m and v start at 0)
        v_hat = v / (1 - beta2**t)
        param -= lr * m_hat / (sqrt(v_hat) + eps)

    ``weight_decay`` adds ``weight_decay * param`` to the gradient first (L2, as in PyTorch).
    The moments are in ``m`` and ``v``, one array per parameter; ``t`` counts the steps.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}.")
        beta1, beta2 = betas
        for name, b in (("betas[0]", beta1), ("betas[1]", beta2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {b!r}.")
        if not eps > 0:
            raise ValueError(f"eps must be positive, got {eps!r}.")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}.")
        self.betas = (float(beta1), float(beta2))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.t = 0  # number of steps taken
        self.m = [np.zeros_like(p) for p, _ in self.params]
        self.v = [np.zeros_like(p) for p, _ in self.params]

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps})"

    def step(self) -> None:
        """One Adam update of every parameter, in place: the formula above, line by line."""
        self.t += 1
        beta1, beta2 = self.betas
        for (p, g), m, v in zip(self.params, self.m, self.v, strict=True):
            if self.weight_decay:
                g = g + self.weight_decay * p  # L2 penalty in the gradient, as torch.optim.Adam
            m[...] = beta1 * m + (1 - beta1) * g  # moving average of the gradient
            v[...] = beta2 * v + (1 - beta2) * g**2  # ... and of its square
            m_hat = m / (1 - beta1**self.t)  # bias correction: m and v start at zero
            v_hat = v / (1 - beta2**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
