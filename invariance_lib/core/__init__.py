"""The numpy core's building blocks: input validation, linear algebra, groups.

Modules: ``validation`` (the public ``check_*`` functions and :class:`AssumptionWarning`),
``linalg`` (sign-fixed SVDs, truncation to an index set, PSD roots, null spaces, the one
rank policy), ``groups`` (representations). No module here imports torch.
"""
from .validation import AssumptionWarning

__all__ = ["AssumptionWarning"]
