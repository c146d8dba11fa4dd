"""ltsim: tail latency of coded distributed non-linear computations.

The package simulates the schemes of Mallick, Smith and Joshi, *Rateless Codes for
Distributed Non-linear Computations*: All-at-One, Uncoded, r-Replication and LT-r codes
decoded by an online peeling decoder, under the straggler model Y_j = X_j + tau * B_j.
"""

__version__ = "0.1.0"
