"""SR-d, the rateless sum-recovery code (Mallick and Joshi, ITW 2022): its family of modules.

* :mod:`~ltsim.codes.sum_recovery.code` — the code (:class:`SumRecovery`: parameters,
  checks, simulation, real execution and its :class:`SumRecoveryMaster`);
* :mod:`~ltsim.codes.sum_recovery.arrivals` — the arrival process, and trials that feed it
  lazily to the decoder (``sample_trial``, ``run_trial``, ``Workspace``);
* :mod:`~ltsim.codes.sum_recovery.gfp` — the exact decoder: is the all-ones vector in the
  real span of the received symbols? (``stop_count``, by elimination over GF(p));
* :mod:`~ltsim.codes.sum_recovery.blas` — the decoder's BLAS plumbing (``dgemm`` from
  compiled code, held to one thread);
* :mod:`~ltsim.codes.sum_recovery.coefficients` — the real coefficients that give F from
  the received values.

The code, its decoder and the proof that the decoder is exact are in docs/codes.md (section
``sum_recovery``).
"""

from __future__ import annotations

from .code import SumRecovery, SumRecoveryMaster

__all__ = ["SumRecovery", "SumRecoveryMaster"]
