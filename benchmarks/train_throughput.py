"""Training and inference throughput, cnnlib versus PyTorch, measured in the same run.

Two networks, float32, trained with Adam:

* ``seed``: the seed article's network, Conv2d(1,8,5), ReLU, Conv2d(8,8,5), ReLU, MaxPool2d(2),
  Flatten, Linear(800,128), ReLU, Linear(128,10); training batch 32.
* ``wide``: Conv2d(1,32,3,padding=1), ReLU, Conv2d(32,32,3,padding=1), ReLU, MaxPool2d(2),
  Conv2d(32,64,3,padding=1), ReLU, Conv2d(64,64,3,padding=1), ReLU, MaxPool2d(2), Flatten,
  Linear(3136,128), ReLU, Linear(128,10); training batch 64.

For each thread count (``--threads 1 2``) cnnlib's BLAS is limited through threadpoolctl and
PyTorch through ``torch.set_num_threads`` (run it without ``OPENBLAS_NUM_THREADS=1`` in the
environment, as ``make bench`` does, or OpenBLAS may be unable to start a second thread).
The contenders take turns, so a noisy neighbour slows all alike; each timed pass is repeated
and the median counts. PyTorch (``pip install torch==2.13.0``) is optional: when importable
the ratio cnnlib / PyTorch is printed.
Run: ``python benchmarks/train_throughput.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import cnnlib

NETS = {"seed": 32, "wide": 64}  # network -> training batch size


def wide_network(rng=0, dtype=np.float32) -> cnnlib.Sequential:
    """A wider, deeper network: 3x3 convolutions with 32 and 64 filters (see module doc)."""
    g = np.random.default_rng(rng)
    return cnnlib.Sequential(
        cnnlib.Conv2d(1, 32, 3, padding=1, rng=g, dtype=dtype), cnnlib.ReLU(),
        cnnlib.Conv2d(32, 32, 3, padding=1, rng=g, dtype=dtype), cnnlib.ReLU(),
        cnnlib.MaxPool2d(2),
        cnnlib.Conv2d(32, 64, 3, padding=1, rng=g, dtype=dtype), cnnlib.ReLU(),
        cnnlib.Conv2d(64, 64, 3, padding=1, rng=g, dtype=dtype), cnnlib.ReLU(),
        cnnlib.MaxPool2d(2),
        cnnlib.Flatten(),
        cnnlib.Linear(64 * 7 * 7, 128, rng=g, dtype=dtype), cnnlib.ReLU(),
        cnnlib.Linear(128, 10, rng=g, gain=0.1, dtype=dtype),
    )


def _torch_network(net: str):
    from torch import nn

    if net == "seed":
        return nn.Sequential(
            nn.Conv2d(1, 8, 5), nn.ReLU(), nn.Conv2d(8, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(800, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))


def cnnlib_passes(net, x, y, batch, infer_batch):
    model = cnnlib.seed_network(rng=0) if net == "seed" else wide_network(rng=0)
    loss_fn = cnnlib.SoftmaxCrossEntropy()
    opt = cnnlib.Adam(model.parameters(), lr=1e-3)

    def train_pass():
        for i in range(0, len(x), batch):
            logits = model.forward(x[i : i + batch])
            loss_fn.forward(logits, y[i : i + batch])
            opt.zero_grad()
            model.backward(loss_fn.backward(), input_grad=False)
            opt.step()

    def infer_pass():
        model.predict(x, batch_size=infer_batch)

    return train_pass, infer_pass


def torch_passes(net, x, y, batch, infer_batch):
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = _torch_network(net)
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))

    def train_pass():
        for i in range(0, len(xt), batch):
            loss = loss_fn(model(xt[i : i + batch]), yt[i : i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()

    def infer_pass():
        with torch.no_grad():
            for i in range(0, len(xt), infer_batch):
                model(xt[i : i + infer_batch]).argmax(1)

    return train_pass, infer_pass


def _time(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def measure(net, threads, x, y, repeats, infer_batch, torch):
    """Median seconds per pass {contender: (train, infer)} with ``threads`` threads."""
    from threadpoolctl import threadpool_limits

    batch = NETS[net]
    runners = {"cnnlib": cnnlib_passes(net, x, y, batch, infer_batch)}
    if torch is not None:
        runners["pytorch"] = torch_passes(net, x, y, batch, infer_batch)
        torch.set_num_threads(threads)
    times = {name: ([], []) for name in runners}
    with threadpool_limits(limits=threads, user_api="blas"):
        for repeat in range(repeats + 1):
            for name, passes in runners.items():
                for j, run in enumerate(passes):
                    seconds = _time(run)
                    if repeat:  # the first round is a warm-up
                        times[name][j].append(seconds)
    return {name: tuple(float(np.median(t)) for t in ts) for name, ts in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nets", nargs="+", choices=list(NETS), default=list(NETS))
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--images", type=int, default=2048, help="images per timed pass")
    parser.add_argument("--repeats", type=int, default=7, help="timed passes; the median counts")
    parser.add_argument("--infer-batch-size", type=int, default=1000)
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.images, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, args.images)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch else ""))
    print(f"{args.images} images per pass, median of {args.repeats}; inference batch "
          f"{args.infer_batch_size}\n")
    print(f"{'network':8s}{'threads':>8s}{'':>10s}{'training img/s':>16s}{'inference img/s':>17s}")
    ratios = []
    for net in args.nets:
        for threads in args.threads:
            t = measure(net, threads, x, y, args.repeats, args.infer_batch_size, torch)
            for name, (train, infer) in t.items():
                print(f"{net:8s}{threads:8d}{name:>10s}{args.images / train:16,.0f}"
                      f"{args.images / infer:17,.0f}")
            if torch is not None:
                ratios.append((net, threads, t["pytorch"][0] / t["cnnlib"][0],
                               t["pytorch"][1] / t["cnnlib"][1]))
    if torch is None:
        print("\nPyTorch is not importable: `pip install torch==2.13.0` to compare.")
        return
    print("\nthroughput ratio cnnlib / pytorch (target for training >= 0.6):")
    for net, threads, train, infer in ratios:
        print(f"  {net:6s}{threads} thread(s):  training {train:.2f}   inference {infer:.2f}")


if __name__ == "__main__":
    main()
