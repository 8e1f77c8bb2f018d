"""Peak memory of a full-MNIST training run of the seed network.

Loads MNIST (55,000 / 5,000 / 10,000, float32 NCHW), trains the seed network for ``--epochs``
epochs with Adam at batch 32 (validation after each epoch), evaluates on the test set, and
prints the peak resident memory of the process (the target is under 1 GB).
Run: ``python benchmarks/peak_memory.py`` (needs the MNIST files: set CNNLIB_DATA or let the
loader download them).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import cnnlib


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    import numpy  # noqa: F401  (count the libraries in the baseline)

    baseline = peak_rss_mb()
    data = cnnlib.prepare_mnist(progress=False)
    after_data = peak_rss_mb()
    model = cnnlib.seed_network(rng=0)
    loss_fn = cnnlib.SoftmaxCrossEntropy()
    history = cnnlib.fit(model, loss_fn, cnnlib.Adam(model.parameters()), data.x_train,
                         data.y_train, epochs=args.epochs, batch_size=32,
                         validation_data=(data.x_val, data.y_val), progress=False)
    test_loss, test_acc = cnnlib.evaluate(model, loss_fn, data.x_test, data.y_test)
    print(f"trained {args.epochs} epoch(s) on {len(data.x_train):,} images in "
          f"{sum(history.history['epoch_time']):.1f} s; test accuracy {test_acc:.4f}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB (interpreter and libraries {baseline:.0f} MB, "
          f"after loading MNIST {after_data:.0f} MB); target < 1024 MB; "
          f"wall time {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
