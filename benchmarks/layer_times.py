"""Where a training step goes: forward and backward time of every layer, the loss and Adam.

Runs real training steps (batch 32, float32, Adam) of the seed network (or ``--net wide``) and
times every layer's forward and backward inside them, so caches and buffers are as warm as in
training. Prints the median over the steps as a table with each part's share of the step.
One BLAS thread by default (``--threads`` to change). Run:
``python benchmarks/layer_times.py`` (``--net wide --batch-size 64`` for the wider network).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import cnnlib

try:  # the wider network lives beside this script
    from train_throughput import wide_network
except ImportError:  # run from elsewhere
    from benchmarks.train_throughput import wide_network


def step_times(model, loss_fn, opt, x, y, batch: int, steps: int,
               clock=time.perf_counter) -> dict[str, list[float]]:
    """Seconds per part of each training step: ``{"<i> <Layer> fwd": [...], ...}``."""
    names = [f"{i} {type(layer).__name__}" for i, layer in enumerate(model)]
    times: dict[str, list[float]] = {}

    def record(name, seconds):
        times.setdefault(name, []).append(seconds)

    n_batches = len(x) // batch
    for step in range(steps):
        i = (step % n_batches) * batch
        xb, yb = x[i : i + batch], y[i : i + batch]
        start = clock()
        out = xb
        for name, layer in zip(names, model, strict=True):
            t0 = clock()
            out = layer.forward(out)
            record(f"{name} fwd", clock() - t0)
        t0 = clock()
        loss_fn.forward(out, yb)
        grad = loss_fn.backward()
        record("loss fwd", clock() - t0)
        record("loss bwd", 0.0)
        opt.zero_grad()
        for j in range(len(model) - 1, -1, -1):
            t0 = clock()
            grad = model[j].backward(grad, input_grad=j > 0)
            record(f"{names[j]} bwd", clock() - t0)
        t0 = clock()
        opt.step()
        record("Adam step fwd", 0.0)
        record("Adam step bwd", clock() - t0)
        record("step", clock() - start)
    return times


def table(times: dict[str, list[float]], warmup: int) -> str:
    """Markdown table: median milliseconds per part and share of the median step."""
    med = {name: float(np.median(t[warmup:])) for name, t in times.items()}
    parts = [name[:-4] for name in med if name.endswith(" fwd")]
    total = sum(med[f"{p} fwd"] + med[f"{p} bwd"] for p in parts)
    lines = ["| part | forward (ms) | backward (ms) | share of the step |",
             "|:-----|-----:|-----:|-----:|"]
    for p in parts:
        f, b = med[f"{p} fwd"], med[f"{p} bwd"]
        lines.append(f"| {p} | {f * 1e3:.3f} | {b * 1e3:.3f} | {(f + b) / total:.1%} |")
    lines.append(f"| **sum of parts** | {sum(med[f'{p} fwd'] for p in parts) * 1e3:.3f} | "
                 f"{sum(med[f'{p} bwd'] for p in parts) * 1e3:.3f} | 100% |")
    lines.append(f"| **whole step (median)** | | {med['step'] * 1e3:.3f} | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", choices=["seed", "wide"], default="seed")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=300, help="timed steps (after warm-up)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: this thread's CPU time, less disturbed by other processes "
                             "on a busy machine (meaningful with one thread)")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64 * args.batch_size, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, len(x))
    model = cnnlib.seed_network(rng=0) if args.net == "seed" else wide_network(rng=0)
    loss_fn = cnnlib.SoftmaxCrossEntropy()
    opt = cnnlib.Adam(model.parameters(), lr=1e-3)
    warmup = 20
    with threadpool_limits(limits=args.threads, user_api="blas"):
        clock = time.perf_counter if args.clock == "wall" else time.thread_time
        times = step_times(model, loss_fn, opt, x, y, args.batch_size, warmup + args.steps, clock)
    print(f"{args.net} network, batch {args.batch_size}, float32, {args.threads} BLAS "
          f"thread(s), median of {args.steps} steps, {args.clock}-clock time\n")
    print(table(times, warmup))


if __name__ == "__main__":
    main()
