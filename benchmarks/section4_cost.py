"""Benchmark: the cost of the three methods of Section 4, per epoch and until the
accuracy settles (the numbers of chapter 8's cost table).

Run from the repository root::

    python benchmarks/section4_cost.py

It times, with :func:`invariance_lib.experiments.section4.measure_cost` (one CPU
thread, short runs, median of 3 after a warm-up), one epoch of augmentation,
hard-wiring and regularisation (λ = 1e-2, PyTorch's ``MSELoss`` reading) on the
moment fast path and full batch on the samples, and augmentation with mini-batches
of 64. Epochs until the accuracy on the augmented training set settles (within one
percentage point of the median of its last ten evaluations) come from one full-batch
run of each method (3,000 epochs; the samples path has the same iterates) and a
30-epoch mini-batch run. It prints a table and, last, one JSON line.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from threadpoolctl import threadpool_limits  # noqa: E402

from invariance_lib import c4_rotations, load_mnist, train, train_many  # noqa: E402
from invariance_lib.experiments.section4 import (measure_cost,  # noqa: E402
                                                 parameter_counts, settling_epoch)
from invariance_lib.experiments.training import Run  # noqa: E402


def main() -> dict:
    data = load_mnist()
    rep = c4_rotations(14)
    X, Y = data.X_train, data.Y_train
    with threadpool_limits(1):
        cost = measure_cost(X, Y, rep, lam=1e-2)
        runs = [Run("augmentation"), Run("hard-wired"), Run("regularisation", lam=1e-2)]
        hist = train_many(X, Y, runs, rep=rep, normalization="mean", epochs=3000,
                          record_every=100, eval_every=20, progress=False)
        mb = train(X, Y, "augmentation", rep=rep, batch_size=64, epochs=30,
                   eval_every=1, record_every=30, progress=False)
    settle = {h.method: settling_epoch(h.eval_epochs, h.aug_train_acc, 0.01, 10)
              for h in hist}
    settle_mb = settling_epoch(mb.eval_epochs, mb.aug_train_acc, 0.01, 10)
    print(f"{'method':13s}{'path':12s}{'ms/epoch':>10s}{'epochs':>8s}{'seconds':>9s}")
    out = {}
    for r in cost:
        n = settle_mb if r["path"] == "mini-batch" else settle[r["method"]]
        t = r["seconds_per_epoch"]
        print(f"{r['method']:13s}{r['path']:12s}{1e3 * t:10.3f}{n:8d}{t * n:9.2f}")
        out[f"{r['method']}/{r['path']}_ms_per_epoch"] = round(1e3 * t, 4)
        out[f"{r['method']}/{r['path']}_s_to_settle"] = round(t * n, 3)
    counts = parameter_counts(196, 5, 9, rep)
    print(f"parameters: plain {counts['plain']}, hard-wired {counts['hardwired']}, "
          f"ratio {counts['ratio']:.2f}")
    out["parameter_ratio"] = round(counts["ratio"], 3)
    out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
