"""Fitting the model to measurements (``ltsim fit``): the start-up delay law and the unit
time of an ``ltsim execute`` run, by censored maximum likelihood.

Modules: :mod:`.mle` (the censored maximum-likelihood core: data, optimiser, standard
errors), :mod:`.laws` (single laws), :mod:`.mixtures` (two-component mixtures),
:mod:`.classes` (two classes of workers), :mod:`.tasks` (a ``tasks.csv`` table: the
regression of ``tau``, every candidate, the choice by AIC and the fitted config).
"""
