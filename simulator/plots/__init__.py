"""Figures drawn from result files only (never by re-simulating)."""
