"""Benchmark: the chapter-10 grid (Appendix C.3) trained stacked vs a plain PyTorch loop.

Run from the repository root::

    python benchmarks/appendix_c.py                 # 100 epochs (about two minutes)
    python benchmarks/appendix_c.py --epochs 20     # a smoke run

The grid: σ ∈ {Leaky ReLU, ReLU, Swish, Tanh} × hidden ∈ {7, 15} × {augmentation,
hard-wired} × 5 seeds, for N = 1,000 and N = 3,500 training images of the bundled
MNIST sample (14×14, digits 0–8, C4), MSE with PyTorch's normalisation, full batch,
Adam (lr 1e-3), float32 — 160 networks. It times, in one process and with the same
torch threads (``--threads``, default 2):

(a) ``library_s``: :func:`invariance_lib.experiments.nonlinear.train_appendix_c3`,
    which stacks every run that sees the same inputs into one matrix product and
    computes the passes by hand in cache-sized column chunks
    (:mod:`invariance_lib.experiments.stacked_kernels`);
(b) ``plain_loop_s``: the same 160 runs one at a time, as a straightforward PyTorch
    loop does them: the augmented data set materialised, an ``nn.Sequential`` of
    ``nn.Linear`` layers and the activation, ``nn.MSELoss``, ``torch.optim.Adam``,
    the same initial weights and number of full-batch steps, the loss recorded
    every epoch (the library records it too);
(c) ``gemm_gflops``: a 2048×2048 float32 matrix product (median of 5, measured
    before and after (a) and (b); the larger median is reported).

``gflops`` is the library's *useful* rate: the floating-point operations of the
training steps (:meth:`StackedTrainer.useful_flops`: the products of both layers,
forward and backward, without the input gradient) divided by ``library_s``;
``efficiency = gflops / gemm_gflops``. The machine may be shared: the table prints
the load average before and after, and both sides of every ratio come from the
same run. The last line printed is one JSON object with the keys ``library_s``,
``plain_loop_s``, ``gflops``, ``gemm_gflops`` and ``efficiency``.
Targets: efficiency >= 0.5 and library_s <= plain_loop_s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from invariance_lib.data import load_mnist  # noqa: E402
from invariance_lib.experiments.nonlinear import (appendix_c3_runs,  # noqa: E402
                                                  train_appendix_c3)
from invariance_lib.experiments.stacked import StackedTrainer  # noqa: E402
from invariance_lib.core.groups import c4_rotations  # noqa: E402
from invariance_lib.experiments.networks import TwoLayer  # noqa: E402

SIZES = (1000, 3500)
ACT = {"leaky_relu": lambda: nn.LeakyReLU(0.01), "relu": nn.ReLU, "silu": nn.SiLU,
       "tanh": nn.Tanh}


def gemm_gflops(n: int = 2048, repeat: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2.0 * n ** 3 / statistics.median(times) / 1e9


def run_library(data, rep, runs, epochs: int):
    total, flops, hists = 0.0, 0.0, []
    for N in SIZES:
        X, Y = data.X_train[:, :N], data.Y_train[:, :N]
        t0 = time.perf_counter()
        hists += train_appendix_c3(X, Y, runs, rep=rep, epochs=epochs, eval_every=epochs,
                                   accuracy=False, record_every=1,
                                   num_threads=torch.get_num_threads())
        total += time.perf_counter() - t0
        flops += epochs * StackedTrainer(X, Y, runs, rep=rep, epochs=1,
                                         accuracy=False).useful_flops()
    return total, flops, hists


def run_plain_loop(data, rep, runs, epochs: int):
    E, B = rep.elements(), rep.invariant_basis()
    t0 = time.perf_counter()
    losses = []
    for N in SIZES:
        X, Y = data.X_train[:, :N], data.Y_train[:, :N]
        X_aug = torch.tensor(np.concatenate([g @ X for g in E], axis=1).T,
                             dtype=torch.float32)
        Y_aug = torch.tensor(np.tile(Y, (1, len(E))).T, dtype=torch.float32)
        X_hw = torch.tensor((B @ X).T, dtype=torch.float32)
        Y_hw = torch.tensor(Y.T, dtype=torch.float32)
        for run in runs:
            ref = TwoLayer(196, run.hidden, 9, run.activation,
                           basis=B if run.method == "hardwired" else None, seed=run.seed)
            first = nn.Linear(ref.hidden_layer.in_features, run.hidden)
            second = nn.Linear(run.hidden, 9)
            with torch.no_grad():
                for mine, lib in ((first, ref.hidden_layer), (second, ref.output_layer)):
                    mine.weight.copy_(lib.weight)
                    mine.bias.copy_(lib.bias)
            model = nn.Sequential(first, ACT[run.activation](), second)
            x, y = (X_hw, Y_hw) if run.method == "hardwired" else (X_aug, Y_aug)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            mse = nn.MSELoss()
            curve = []
            for _ in range(epochs + 1):
                loss = mse(model(x), y)
                curve.append(loss.item())
                opt.zero_grad()
                loss.backward()
                opt.step()
            losses.append(curve[:-1] + [curve[-1]])
    return time.perf_counter() - t0, losses


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load_mnist(n_train=max(SIZES))
    rep = c4_rotations(14)
    runs = appendix_c3_runs()
    load0 = os.getloadavg()
    gemm = [gemm_gflops()]
    run_library(data, rep, runs[:2], 2)             # warm-up (imports, first allocations)
    t_lib, flops, hists = run_library(data, rep, runs, args.epochs)
    t_loop, loop = run_plain_loop(data, rep, runs, args.epochs)
    gemm.append(gemm_gflops())
    load1 = os.getloadavg()
    g_rate = max(gemm)
    rate = flops / t_lib / 1e9
    eff = rate / g_rate
    # agreement: the same initial weights and steps give the same losses (float32)
    diff = max(abs(h.loss[-1] - c[-1]) / c[-1] for h, c in zip(hists, loop))

    print(f"Appendix C.3 benchmark: {len(runs)} networks x N in {SIZES}, "
          f"{args.epochs} full-batch epochs, float32, torch threads {args.threads}")
    print(f"load average before {load0[0]:.2f}, after {load1[0]:.2f} (2-core machine)")
    print(f"{'phase':<44} {'time':>9} {'GFLOP/s':>9}")
    print("-" * 64)
    print(f"{'(a) library, stacked':<44} {t_lib:>8.2f}s {rate:>9.1f}")
    print(f"{'(b) plain PyTorch loop, one run at a time':<44} {t_loop:>8.2f}s "
          f"{flops / t_loop / 1e9:>9.1f}")
    print(f"{'(c) 2048x2048 float32 matmul (before, after)':<44} {'':>9} "
          f"{gemm[0]:>6.1f}, {gemm[1]:.1f}")
    print(f"useful work {flops / 1e9:.1f} GFLOP; efficiency {eff:.2f} (target >= 0.5: "
          f"{eff >= 0.5}); speed-up {t_loop / t_lib:.2f}x (target >= 1: "
          f"{t_lib <= t_loop})")
    print(f"check: max relative difference of the final losses, library vs loop: "
          f"{diff:.1e}")
    result = {"library_s": round(t_lib, 3), "plain_loop_s": round(t_loop, 3),
              "gflops": round(rate, 2), "gemm_gflops": round(g_rate, 2),
              "efficiency": round(eff, 3)}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
