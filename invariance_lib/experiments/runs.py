"""Run specifications: a method, its λ, a seed and a label; the paper's Section 4 runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from ..core.validation import check_lam, check_seed
from ..theory.problems import canonical_method
from .history import method_label

__all__ = ["LOSSES", "Run", "section4_runs", "canonical_loss", "as_run", "check_runs",
           "run_labels"]

LOSSES = ("mse", "cross_entropy")
_LOSS_ALIASES = {"mse": "mse", "l2": "mse", "squared": "mse",
                 "cross_entropy": "cross_entropy", "cross-entropy": "cross_entropy",
                 "crossentropy": "cross_entropy", "ce": "cross_entropy"}


# ------------------------------------------------------------------- runs
@dataclass(frozen=True)
class Run:
    """One run of a sweep: a method, its λ, a seed and a legend label.

    Parameters
    ----------
    method : str
        ``"plain"``, ``"hard-wired"``, ``"augmentation"`` or ``"regularisation"``
        (or the canonical names of :func:`invariance_lib.theory.problems.canonical_method`).
    lam : float, optional
        Required for regularisation (``λ >= 0``); must be omitted otherwise.
    seed : int, default 0
        Seed of the initial weights and of the mini-batch order.
    label : str, optional
        Legend label (default: ``"augmentation"``, ``"regularisation λ=0.01"``, …).
    """

    method: str
    lam: float | None = None
    seed: int = 0
    label: str | None = None

    def __post_init__(self) -> None:
        method = canonical_method(self.method)
        object.__setattr__(self, "method", method)
        if method == "regularized":
            if self.lam is None:
                raise ValueError("method 'regularisation' needs its strength: pass lam=... "
                                 "(a number >= 0), e.g. lam=1e-2.")
            vals, _ = check_lam(self.lam, allow_array=False)
            object.__setattr__(self, "lam", float(vals[0]))
        elif self.lam is not None:
            raise ValueError(f"lam is only used by method 'regularisation', but method is "
                             f"{self.method!r}; drop lam=... or use method='regularisation'.")
        object.__setattr__(self, "seed", check_seed(self.seed))

    @property
    def name(self) -> str:
        """The label, or the display name of the method (and λ)."""
        return self.label or method_label(self.method, self.lam)


def as_run(spec) -> Run:
    if isinstance(spec, Run):
        return spec
    if isinstance(spec, str):
        return Run(spec)
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"method", "lam", "seed", "label"}
        if unknown:
            raise ValueError(f"unknown run keys {sorted(unknown)}; a run is given by method, "
                             f"lam, seed and label.")
        return Run(**spec)
    raise TypeError(f"a run must be a Run, a method name or a dict, got {spec!r}.")


def section4_runs(lams: Iterable[float] = (1e-3, 1e-2, 1e-1),
                  seeds: Iterable[int] = (0,)) -> list[Run]:
    """The paper's Section 4 runs: augmentation, hard-wired and regularisation for each λ.

    With several seeds, every run is repeated per seed (labels then name the seed).
    """
    seeds = list(seeds)
    out = []
    for s in seeds:
        tag = f" (seed {s})" if len(seeds) > 1 else ""
        out.append(Run("augmentation", seed=s, label="augmentation" + tag))
        out.append(Run("hard-wired", seed=s, label="hard-wired" + tag))
        for lam in lams:
            out.append(Run("regularisation", lam=lam, seed=s,
                           label=method_label("regularized", float(lam)) + tag))
    return out


def check_runs(runs) -> list[Run]:
    if isinstance(runs, (Run, str, Mapping)):
        runs = [runs]
    try:
        run_list = [as_run(r) for r in runs]
    except TypeError as exc:
        if "a run must be" in str(exc):
            raise
        raise TypeError(f"runs must be a sequence of Run, method names or dicts, got "
                        f"{runs!r}.") from None
    if not run_list:
        raise ValueError("runs is empty; pass at least one run, e.g. section4_runs().")
    return run_list


def canonical_loss(loss: str) -> str:
    key = str(loss).lower().strip()
    if key not in _LOSS_ALIASES:
        raise ValueError(f"unknown loss {loss!r}; use 'mse' or 'cross_entropy' (alias "
                         f"'cross-entropy').")
    return _LOSS_ALIASES[key]


def run_labels(runs: list[Run]) -> list[str]:
    names = [r.name for r in runs]
    counts = {n: names.count(n) for n in names}
    return [f"{n} (seed {r.seed})" if counts[n] > 1 and r.label is None else n
            for n, r in zip(names, runs)]
