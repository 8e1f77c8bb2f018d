"""Training and inference throughput of the seed network: cnnlib versus PyTorch, in one run.

Network: Conv2d(1,8,5), ReLU, Conv2d(8,8,5), ReLU, MaxPool2d(2), Flatten, Linear(800,128), ReLU,
Linear(128,10); float32; training with batch 32 and Adam, inference with batch 1,000.
cnnlib is timed with the BLAS threads the environment gives (OpenBLAS defaults to one per core)
and, through threadpoolctl, with one thread (what the Makefile uses for builds and tests).
PyTorch (``pip install torch==2.13.0``) is optional: when importable it is timed on the same
data in the same run and the ratio is printed. Run: ``python benchmarks/train_throughput.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

import cnnlib


def _time(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def cnnlib_passes(x, y, batch, infer_batch):
    model = cnnlib.seed_network(rng=0)
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


def torch_passes(x, y, batch, infer_batch):
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 5), nn.ReLU(), nn.Conv2d(8, 8, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(800, 128), nn.ReLU(), nn.Linear(128, 10))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4096, help="images per timed pass")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes; the best counts")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--infer-batch-size", type=int, default=1000)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.images, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, args.images)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, numpy {np.__version__}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"{args.images} images per pass, best of {args.repeats}; training batch "
          f"{args.batch_size}, inference batch {args.infer_batch_size}\n")
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # then only the threads the environment gives
        threadpool_limits = None
    default_threads = _blas_threads()
    runners = {f"cnnlib ({default_threads} BLAS threads)":
               (None, cnnlib_passes(x, y, args.batch_size, args.infer_batch_size))}
    if threadpool_limits is not None and default_threads != 1:
        runners["cnnlib (1 BLAS thread)"] = (
            1, cnnlib_passes(x, y, args.batch_size, args.infer_batch_size))
    try:
        import torch

        runners["pytorch"] = (None, torch_passes(x, y, args.batch_size, args.infer_batch_size))
    except ImportError:
        torch = None
    # Interleave the contenders so that a noisy neighbour slows all alike; keep the best pass.
    best = {name: [float("inf"), float("inf")] for name in runners}
    for repeat in range(args.repeats + 1):
        for name, (threads, passes) in runners.items():
            for j, run in enumerate(passes):
                if threads is None:
                    seconds = _time(run)
                else:
                    with threadpool_limits(limits=threads, user_api="blas"):
                        seconds = _time(run)
                if repeat:  # the first round is a warm-up
                    best[name][j] = min(best[name][j], seconds)
    rate = {name: (args.images / t[0], args.images / t[1]) for name, t in best.items()}
    width = max(len(name) for name in rate) + 2
    print(f"{'':{width}s}{'training img/s':>16s}{'inference img/s':>18s}")
    for name, (train, infer) in rate.items():
        extra = ""
        if name == "pytorch":
            extra = f"   (torch {torch.__version__}, {torch.get_num_threads()} threads)"
        print(f"{name:{width}s}{train:16,.0f}{infer:18,.0f}{extra}")
    if torch is None:
        print("\nPyTorch is not importable: `pip install torch==2.13.0` to compare.")
        return
    t_train, t_infer = rate["pytorch"]
    print("\nratio cnnlib / pytorch (target for training >= 0.5):")
    for name, (train, infer) in rate.items():
        if name != "pytorch":
            print(f"  {name:{width}s}training {train / t_train:.2f}   inference "
                  f"{infer / t_infer:.2f}")


def _blas_threads() -> int:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1))
    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return max(counts, default=1)


if __name__ == "__main__":
    main()
