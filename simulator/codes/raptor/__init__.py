"""Raptor codes: RFC 5053's systematic R10 (:mod:`.rfc5053`, its tables in :mod:`.tables`),
when its received symbols determine the sources (:mod:`.decoding`, dense and exact;
:mod:`.inactivation`, fast), and the code of the simulator (:mod:`.code`)."""
