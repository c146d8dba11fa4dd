"""Raptor codes: RFC 5053's systematic R10 (:mod:`.rfc5053`, its tables in :mod:`.tables`)
and the decision of when its received symbols determine the sources (:mod:`.decoding`)."""
