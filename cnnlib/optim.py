"""Optimisers (SGD, Adam, AdamW) and learning-rate schedules, with PyTorch's update rules.

Every optimiser takes ``model.parameters()``, a list of ``(param, grad)`` array pairs, updates
the parameters in place and keeps its learning rate in ``optimizer.lr``, which the schedules
(``StepLR``, ``CosineAnnealingLR``, ``LinearLR``, ``SequentialLR``) rewrite once per ``step()``.
"""

from __future__ import annotations

import numpy as np

from ._validation import positive_int

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW",
    "LRScheduler", "StepLR", "CosineAnnealingLR", "LinearLR", "SequentialLR",
]


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
            raise ValueError(f"lr: expected a positive learning rate, got lr={lr!r}.")
        self.lr = float(lr)

    def zero_grad(self) -> None:
        for _, g in self.params:
            g.fill(0)

    def step(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and weight decay (PyTorch's form).

    ``g = grad + weight_decay * param`` (L2 regularisation), then
    ``v = momentum * v + g`` (``v = g`` on the first step), ``param -= lr * v``.
    """

    def __init__(
        self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD: expected momentum in [0, 1), got {momentum!r}.")
        if not weight_decay >= 0:
            raise ValueError(f"SGD: expected weight_decay >= 0, got {weight_decay!r}.")
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self._velocity = [None] * len(self.params)

    def __repr__(self) -> str:
        extra = f", weight_decay={self.weight_decay}" if self.weight_decay else ""
        return f"SGD(lr={self.lr}, momentum={self.momentum}{extra})"

    def step(self) -> None:
        for i, (p, g) in enumerate(self.params):
            if self.weight_decay:
                g = g + self.weight_decay * p  # the gradient of (weight_decay / 2) * |p|^2
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
            raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}.")
        beta1, beta2 = betas
        for name, b in (("betas[0]", beta1), ("betas[1]", beta2)):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name}: expected a value in [0, 1), got {b!r}.")
        if not eps > 0:
            raise ValueError(f"eps: expected a positive number, got {eps!r}.")
        if weight_decay < 0:
            raise ValueError(f"weight_decay: expected a number >= 0, got {weight_decay!r}.")
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


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019), as ``torch.optim.AdamW``.

    Each step first shrinks every parameter, ``param *= 1 - lr * weight_decay``, and then takes
    the plain Adam step. Unlike ``Adam(weight_decay=...)``, which adds the decay to the gradient
    and so lets Adam's per-parameter scaling shrink it, every weight decays at the same rate.

    The rate is kept in ``decoupled_weight_decay``; the inherited ``weight_decay`` (Adam's L2
    term, added to the gradient) stays 0, so the decay is applied once, not twice.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps)
        if not weight_decay >= 0:
            raise ValueError(f"AdamW: expected weight_decay >= 0, got {weight_decay!r}.")
        self.decoupled_weight_decay = float(weight_decay)

    def __repr__(self) -> str:
        return (f"AdamW(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
                f"weight_decay={self.decoupled_weight_decay})")

    def step(self) -> None:
        for p, _ in self.params:
            p *= 1 - self.lr * self.decoupled_weight_decay
        super().step()


# --------------------------------------------------------------------------- schedules
class LRScheduler:
    """Base class of the learning-rate schedules: PyTorch's protocol, one number per step.

    The schedule sets ``optimizer.lr`` when it is created (step 0) and again on every
    ``step()``; ``fit(..., scheduler=...)`` calls ``step()`` after every epoch. ``get_last_lr()``
    is the rate now in use. Subclasses give ``lr_at(step)`` in closed form.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected a cnnlib optimiser, got "
                f"{type(optimizer).__name__}."
            )
        self.optimizer = optimizer
        if not hasattr(optimizer, "initial_lr"):  # the first schedule remembers the rate it found
            optimizer.initial_lr = optimizer.lr
        self.base_lr = optimizer.initial_lr
        self.last_epoch = 0
        self.optimizer.lr = self.lr_at(0)

    def lr_at(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self) -> None:
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> float:
        return self.optimizer.lr

    def __repr__(self) -> str:
        return f"{type(self).__name__}(step {self.last_epoch}, lr={self.optimizer.lr:.3g})"


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = positive_int("step_size", step_size)
        self.gamma = float(gamma)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** (step // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """Cosine from the initial rate down to ``eta_min`` over ``T_max`` steps.

    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * step / T_max)) / 2``
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        self.T_max = positive_int("T_max", T_max)
        self.eta_min = float(eta_min)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        cosine = (1 + np.cos(np.pi * step / self.T_max)) / 2
        return float(self.eta_min + (self.base_lr - self.eta_min) * cosine)


class LinearLR(LRScheduler):
    """Scale the rate linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    steps, then keep it (a warm-up when ``start_factor`` is small)."""

    def __init__(
        self, optimizer: Optimizer, start_factor: float = 1 / 3, end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        if not 0 < start_factor <= 1 or not 0 <= end_factor <= 1:
            raise ValueError(
                f"LinearLR: expected 0 < start_factor <= 1 and 0 <= end_factor <= 1, got "
                f"{start_factor!r} and {end_factor!r}."
            )
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = positive_int("total_iters", total_iters)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        t = min(step, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * t)


class SequentialLR(LRScheduler):
    """Run ``schedulers`` one after another, switching at the steps in ``milestones``
    (e.g. a ``LinearLR`` warm-up, then a ``CosineAnnealingLR`` decay).

    Each schedule counts its own steps from 0 when it takes over, as in PyTorch.
    """

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list[int]) -> None:
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: expected {len(schedulers) - 1} milestone(s) for "
                f"{len(schedulers)} schedulers, got {len(milestones)}."
            )
        if list(milestones) != sorted(milestones):
            raise ValueError(f"SequentialLR: expected increasing milestones, got {milestones}.")
        for s in schedulers:
            if s.optimizer is not optimizer:
                raise ValueError("SequentialLR: every scheduler must drive the same optimiser.")
        self.schedulers, self.milestones = list(schedulers), [int(m) for m in milestones]
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        starts = [0, *self.milestones]
        i = int(np.searchsorted(self.milestones, step, side="right"))
        return self.schedulers[i].lr_at(step - starts[i])
