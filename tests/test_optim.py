"""Tests for cnnlib.optim: SGD and Adam against hand-computed updates and PyTorch, and errors."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib.optim import (
    SGD,
    Adam,
    AdamW,
    CosineAnnealingLR,
    LinearLR,
    SequentialLR,
    StepLR,
)

# Five steps of made-up gradients for a parameter of three numbers: signs and sizes vary.
GRADIENTS = np.array([
    [0.5, -1.0, 2.0],
    [0.4, 0.3, -1.5],
    [-0.2, 0.1, 0.0],
    [1.0, -0.5, 0.25],
    [0.3, 0.3, -3.0],
])
START = np.array([1.0, -2.0, 0.5])


def pair(values=START):
    p = np.array(values, dtype=np.float64)
    return p, np.zeros_like(p)


def run(optimizer, grad, gradients=GRADIENTS):
    """Take one step per row of ``gradients``, writing each into ``grad`` in place."""
    for row in gradients:
        grad[...] = row
        optimizer.step()


# --------------------------------------------------------------------------- SGD
def test_sgd_step_matches_hand_computed_values():
    p, g = pair([1.0, 2.0])
    g[...] = [0.5, -1.0]
    SGD([(p, g)], lr=0.1).step()
    np.testing.assert_allclose(p, [0.95, 2.1], rtol=1e-15)


def test_sgd_with_momentum_matches_hand_computed_values():
    # v1 = 1 -> p = 0.9; v2 = 0.9*1 - 2 = -1.1 -> p = 1.01; v3 = 0.9*(-1.1) + 0.5 = -0.49 -> 1.059
    p, g = pair([1.0])
    optimizer = SGD([(p, g)], lr=0.1, momentum=0.9)
    expected = [0.9, 1.01, 1.059]
    for grad, value in zip([1.0, -2.0, 0.5], expected, strict=True):
        g[...] = grad
        optimizer.step()
        assert p[0] == pytest.approx(value, rel=1e-12)


def test_sgd_with_momentum_accelerates_under_a_constant_gradient():
    # v = 1, 1.9, 2.71: p = 1 - 0.1 * 1 = 0.9, then 0.71, then 0.439
    p, g = pair([1.0])
    optimizer = SGD([(p, g)], lr=0.1, momentum=0.9)
    g[...] = 1.0
    values = []
    for _ in range(3):
        optimizer.step()
        values.append(p[0])
    np.testing.assert_allclose(values, [0.9, 0.71, 0.439], rtol=1e-12)


def test_sgd_with_zero_momentum_is_plain_gradient_descent():
    p, g = pair()
    run(SGD([(p, g)], lr=0.05, momentum=0.0), g)
    np.testing.assert_allclose(p, START - 0.05 * GRADIENTS.sum(axis=0), rtol=1e-12)


def test_sgd_updates_parameters_in_place():
    p, g = pair()
    g[...] = 1.0
    SGD([(p, g)], lr=0.1).step()
    assert p[0] == pytest.approx(START[0] - 0.1)


def test_sgd_step_does_not_change_the_gradient():
    p, g = pair()
    g[...] = 1.0
    optimizer = SGD([(p, g)], lr=0.1, momentum=0.9)
    optimizer.step()
    optimizer.step()
    np.testing.assert_array_equal(g, 1.0)


# --------------------------------------------------------------------------- Adam
def adam_reference(start, gradients, lr, beta1, beta2, eps, weight_decay):
    """Adam written out step by step (Kingma and Ba, Algorithm 1; L2 decay as PyTorch)."""
    p = np.array(start, dtype=np.float64)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, grad in enumerate(gradients, start=1):
        grad = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
@pytest.mark.parametrize(("lr", "betas", "eps"), [(1e-3, (0.9, 0.999), 1e-8),
                                                  (0.05, (0.8, 0.99), 1e-3)])
def test_adam_matches_hand_written_reference_over_five_steps(lr, betas, eps, weight_decay):
    p, g = pair()
    optimizer = Adam([(p, g)], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    run(optimizer, g)
    expected = adam_reference(START, GRADIENTS, lr, *betas, eps, weight_decay)
    np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-15)


def test_adam_after_each_step_matches_reference():
    p, g = pair()
    optimizer = Adam([(p, g)], lr=0.01)
    for t in range(1, len(GRADIENTS) + 1):
        g[...] = GRADIENTS[t - 1]
        optimizer.step()
        expected = adam_reference(START, GRADIENTS[:t], 0.01, 0.9, 0.999, 1e-8, 0.0)
        np.testing.assert_allclose(p, expected, rtol=1e-12)


def test_adam_first_step_moves_each_parameter_by_about_lr():
    # Bias correction makes m_hat / sqrt(v_hat) = sign(grad) on step 1 (an off-by-one in the
    # step counter would not).
    p, g = pair()
    g[...] = [0.5, -1e-3, 20.0]
    Adam([(p, g)], lr=0.01).step()
    np.testing.assert_allclose(p - START, [-0.01, 0.01, -0.01], rtol=1e-4)


def test_adam_counts_steps():
    p, g = pair()
    optimizer = Adam([(p, g)])
    run(optimizer, g)
    assert optimizer.t == len(GRADIENTS)


def test_adam_keeps_float32_parameters_float32():
    p, g = np.ones(3, np.float32), np.ones(3, np.float32)
    Adam([(p, g)]).step()
    assert p.dtype == np.float32


def test_adam_weight_decay_shrinks_a_parameter_with_zero_gradient():
    p, g = pair([1.0, -1.0])
    Adam([(p, g)], lr=0.01, weight_decay=0.1).step()
    np.testing.assert_allclose(p, [0.99, -0.99], rtol=1e-6)


def test_adam_moments_after_one_step_are_the_weighted_gradient_and_its_square():
    p, g = pair()
    g[...] = [0.5, -2.0, 4.0]
    optimizer = Adam([(p, g)], betas=(0.8, 0.9))
    optimizer.step()
    np.testing.assert_allclose(optimizer.m[0], 0.2 * g, rtol=1e-12)
    np.testing.assert_allclose(optimizer.v[0], 0.1 * g**2, rtol=1e-12)


def test_adam_step_with_weight_decay_does_not_change_the_gradient():
    p, g = pair()
    g[...] = [0.5, -2.0, 4.0]
    Adam([(p, g)], weight_decay=0.1).step()
    np.testing.assert_array_equal(g, [0.5, -2.0, 4.0])


def test_adam_keeps_float32_moments_float32():
    p, g = np.ones(3, np.float32), np.ones(3, np.float32)
    optimizer = Adam([(p, g)], weight_decay=0.1)
    optimizer.step()
    assert optimizer.m[0].dtype == np.float32 and optimizer.v[0].dtype == np.float32


# --------------------------------------------------------------------------- shared behaviour
@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)],
                         ids=["SGD", "Adam"])
def test_zero_grad_clears_every_gradient_in_place(make):
    pairs = [pair(), pair([3.0])]
    for _, g in pairs:
        g[...] = 7.0
    make(pairs).zero_grad()
    for _, g in pairs:
        assert not g.any()


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)],
                         ids=["SGD", "Adam"])
def test_optimizer_accepts_a_generator_of_pairs(make):
    p, g = pair()
    g[...] = 1.0
    make(iter([(p, g)])).step()
    assert (p < START).all()


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)],
                         ids=["SGD", "Adam"])
def test_optimizer_updates_every_parameter(make):
    pairs = [pair(), pair([3.0, 4.0])]
    for _, g in pairs:
        g[...] = 1.0
    make(pairs).step()
    assert (pairs[0][0] < START).all()
    assert (pairs[1][0] < [3.0, 4.0]).all()


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("cls", [SGD, Adam])
def test_empty_parameter_list_is_rejected(cls):
    with pytest.raises(ValueError, match=r"empty parameter list; pass model\.parameters\(\)"):
        cls([], lr=0.1)


@pytest.mark.parametrize("cls", [SGD, Adam])
@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan")])
def test_non_positive_learning_rate_is_rejected(cls, lr):
    with pytest.raises(ValueError, match=rf"lr: expected a positive learning rate, got lr={lr!r}"):
        cls([pair()], lr=lr)


@pytest.mark.parametrize("cls", [SGD, Adam])
def test_parameter_and_gradient_shapes_must_match(cls):
    with pytest.raises(ValueError, match=r"parameter 0 has shape \(3,\) but its gradient has "
                                         r"shape \(2,\)"):
        cls([(np.zeros(3), np.zeros(2))], lr=0.1)


@pytest.mark.parametrize("momentum", [1.0, -0.1, 1.5])
def test_sgd_momentum_outside_zero_one_is_rejected(momentum):
    with pytest.raises(ValueError, match=rf"SGD: expected momentum in \[0, 1\), got {momentum}"):
        SGD([pair()], lr=0.1, momentum=momentum)


@pytest.mark.parametrize(("betas", "message"), [
    ((1.0, 0.999), r"betas\[0\]: expected a value in \[0, 1\), got 1\.0"),
    ((-0.1, 0.999), r"betas\[0\]: expected a value in \[0, 1\), got -0\.1"),
    ((0.9, 1.0), r"betas\[1\]: expected a value in \[0, 1\), got 1\.0"),
    ((0.9, 1.5), r"betas\[1\]: expected a value in \[0, 1\), got 1\.5"),
])
def test_adam_betas_outside_zero_one_are_rejected(betas, message):
    with pytest.raises(ValueError, match=message):
        Adam([pair()], betas=betas)


@pytest.mark.parametrize("eps", [0.0, -1e-8])
def test_adam_non_positive_eps_is_rejected(eps):
    with pytest.raises(ValueError, match=rf"eps: expected a positive number, got {eps!r}"):
        Adam([pair()], eps=eps)


# --------------------------------------------------------------------------- PyTorch as an oracle
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adam_matches_torch_over_several_steps(weight_decay):
    torch = pytest.importorskip("torch")
    p, g = pair()
    ours = Adam([(p, g)], lr=0.02, betas=(0.85, 0.99), eps=1e-6, weight_decay=weight_decay)
    pt = torch.tensor(START, requires_grad=True)
    theirs = torch.optim.Adam([pt], lr=0.02, betas=(0.85, 0.99), eps=1e-6,
                              weight_decay=weight_decay)
    for row in GRADIENTS:
        g[...] = row
        ours.step()
        pt.grad = torch.tensor(row)
        theirs.step()
        np.testing.assert_allclose(p, pt.detach().numpy(), rtol=1e-6, atol=1e-12)


def test_sgd_with_momentum_matches_torch_over_several_steps():
    torch = pytest.importorskip("torch")
    p, g = pair()
    ours = SGD([(p, g)], lr=0.05, momentum=0.9)
    pt = torch.tensor(START, requires_grad=True)
    theirs = torch.optim.SGD([pt], lr=0.05, momentum=0.9)
    for row in GRADIENTS:
        g[...] = row
        ours.step()
        pt.grad = torch.tensor(row)
        theirs.step()
        np.testing.assert_allclose(p, pt.detach().numpy(), rtol=1e-6, atol=1e-12)


# --------------------------------------------------------------------------- weight decay
def torch_and_ours(make_ours, make_torch, steps=6, seed=0):
    """Run both optimisers on the same sequence of gradients; return the final parameters."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    start = rng.standard_normal((3, 4))
    p, g = start.copy(), np.zeros_like(start)
    ours = make_ours([(p, g)])
    tp = torch.nn.Parameter(torch.tensor(start))
    theirs = make_torch([tp])
    for _ in range(steps):
        grad = rng.standard_normal(start.shape)
        g[...] = grad
        ours.step()
        tp.grad = torch.tensor(grad)
        theirs.step()
    return p, tp.detach().numpy()


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_weight_decay_matches_torch(momentum):
    torch = pytest.importorskip("torch")
    ours, theirs = torch_and_ours(
        lambda ps: SGD(ps, lr=0.1, momentum=momentum, weight_decay=0.05),
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=momentum, weight_decay=0.05))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [{"lr": 0.01, "weight_decay": 0.1}, {},
                                    {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6}])
def test_adamw_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    ours, theirs = torch_and_ours(lambda ps: AdamW(ps, **kwargs),
                                  lambda ps: torch.optim.AdamW(ps, **kwargs), steps=8)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_adamw_keeps_its_rate_in_decoupled_weight_decay_not_adams_l2_term():
    p, g = np.ones(1), np.zeros(1)
    opt = AdamW([(p, g)], lr=0.1, weight_decay=0.5)
    assert opt.weight_decay == 0.0 and opt.decoupled_weight_decay == 0.5


def test_adamw_decays_a_parameter_with_zero_gradient_by_lr_times_decay():
    p, g = np.ones(2), np.zeros(2)
    AdamW([(p, g)], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(p, 1 - 0.1 * 0.5)


def test_sgd_rejects_negative_weight_decay():
    with pytest.raises(ValueError, match=r"SGD: expected weight_decay >= 0, got -0\.1"):
        SGD([(np.ones(1), np.zeros(1))], lr=0.1, weight_decay=-0.1)


# --------------------------------------------------------------------------- schedules
def schedules_agree(make_ours, make_torch, steps=15):
    torch = pytest.importorskip("torch")
    ours_opt = SGD([(np.ones(2), np.zeros(2))], lr=0.1)
    ours = make_ours(ours_opt)
    theirs_opt = torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=0.1)
    theirs = make_torch(theirs_opt, torch.optim.lr_scheduler)
    a, b = [ours_opt.lr], [theirs_opt.param_groups[0]["lr"]]
    for _ in range(steps):
        theirs_opt.step()
        ours.step()
        theirs.step()
        a.append(ours.get_last_lr())
        b.append(theirs_opt.param_groups[0]["lr"])
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    return a


def test_step_lr_matches_torch():
    lrs = schedules_agree(lambda o: StepLR(o, 4, gamma=0.5), lambda o, s: s.StepLR(o, 4, 0.5))
    assert lrs[3] == 0.1 and lrs[4] == 0.05


def test_cosine_matches_torch():
    schedules_agree(lambda o: CosineAnnealingLR(o, 10, eta_min=1e-3),
                    lambda o, s: s.CosineAnnealingLR(o, 10, eta_min=1e-3))


def test_linear_warmup_matches_torch():
    schedules_agree(lambda o: LinearLR(o, 0.1, 1.0, total_iters=3),
                    lambda o, s: s.LinearLR(o, 0.1, 1.0, total_iters=3))


def test_warmup_then_cosine_matches_torch():
    schedules_agree(
        lambda o: SequentialLR(o, [LinearLR(o, 0.1, total_iters=2), CosineAnnealingLR(o, 8)],
                               milestones=[2]),
        lambda o, s: s.SequentialLR(o, [s.LinearLR(o, 0.1, total_iters=2),
                                        s.CosineAnnealingLR(o, 8)], milestones=[2]))


def test_a_schedule_sets_the_rate_when_created():
    opt = SGD([(np.ones(1), np.zeros(1))], lr=0.2)
    LinearLR(opt, 0.5, total_iters=4)
    assert opt.lr == 0.1


def test_sequential_lr_needs_one_milestone_fewer_than_schedulers():
    opt = SGD([(np.ones(1), np.zeros(1))], lr=0.2)
    with pytest.raises(ValueError, match=r"expected 1 milestone\(s\) for 2 schedulers, got 0"):
        SequentialLR(opt, [LinearLR(opt), StepLR(opt, 2)], milestones=[])


def test_three_schedules_in_sequence_match_torch():
    schedules_agree(
        lambda o: SequentialLR(o, [LinearLR(o, 0.2, total_iters=3), StepLR(o, 2, 0.5),
                                   CosineAnnealingLR(o, 5)], milestones=[3, 8]),
        lambda o, s: s.SequentialLR(o, [s.LinearLR(o, 0.2, total_iters=3), s.StepLR(o, 2, 0.5),
                                        s.CosineAnnealingLR(o, 5)], milestones=[3, 8]),
        steps=20)


def test_a_schedule_drives_adamw_as_in_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 4))
    p, g = start.copy(), np.zeros_like(start)
    ours = AdamW([(p, g)], lr=0.05, weight_decay=0.2)
    our_schedule = StepLR(ours, 2, gamma=0.5)
    tp = torch.nn.Parameter(torch.tensor(start))
    theirs = torch.optim.AdamW([tp], lr=0.05, weight_decay=0.2)
    their_schedule = torch.optim.lr_scheduler.StepLR(theirs, 2, gamma=0.5)
    for _ in range(7):  # the rate halves every 2 steps: both the decay and the Adam step see it
        grad = rng.standard_normal(start.shape)
        g[...] = grad
        tp.grad = torch.tensor(grad)
        ours.step()
        theirs.step()
        our_schedule.step()
        their_schedule.step()
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("make", "message"), [
    (lambda o: StepLR(o, 0), r"step_size: expected a positive integer, got 0"),
    (lambda o: CosineAnnealingLR(o, 2.5), r"T_max: expected a positive integer, got 2\.5"),
    (lambda o: LinearLR(o, start_factor=0.0), r"LinearLR: expected 0 < start_factor <= 1"),
    (lambda o: SequentialLR(o, [StepLR(o, 2), StepLR(o, 3), StepLR(o, 4)], [4, 2]),
     r"SequentialLR: expected increasing milestones, got \[4, 2\]"),
])
def test_schedules_reject_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make(SGD([(np.ones(1), np.zeros(1))], lr=0.1))


def test_a_schedule_needs_a_cnnlib_optimiser():
    with pytest.raises(TypeError, match=r"StepLR: expected a cnnlib optimiser, got list"):
        StepLR([], 2)
