"""Figures drawn from result tables only (a folder's or a Results'), never by re-simulating."""
