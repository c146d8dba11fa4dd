# ltsim: `make` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FIGURES := results/figures

.DEFAULT_GOAL := help
.PHONY: help install test test-fast lint reproduce-figures reproduce-codes reproduce-systems \
        reproduce-which-code reproduce-execution reproduce-queueing reproduce-rcmv reproduce-rounds reproduce-raptor reproduce-speculation \
        reproduce-all docs \
        notebook \
        bench clean

## help: list the targets (this text)
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  make /' -e 's/: /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q simulator
	@touch $(STAMP)

## install: create .venv and install ltsim with its test tools
install: $(STAMP)

## test: run ruff and the whole test suite on 2 processes (creates .venv if needed)
test: $(STAMP)
	$(BIN)/ruff check simulator tests benchmarks scripts docs/examples
	$(BIN)/python -m pytest -n 2

## test-fast: the quick tests: no subprocess, cluster or long statistical run (~20 s)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow"

## lint: ruff only
lint: $(STAMP)
	$(BIN)/ruff check simulator tests benchmarks scripts docs/examples

results/exp02/tail.csv: configs/exp02.yaml $(STAMP)
	$(BIN)/ltsim run configs/exp02.yaml --force --quiet

results/pareto11/tail.csv: configs/pareto11.yaml $(STAMP)
	$(BIN)/ltsim run configs/pareto11.yaml --force --quiet

$(FIGURES)/fig2a-exp02.png: results/exp02/tail.csv
	$(BIN)/ltsim plot results/exp02
	@mkdir -p $(FIGURES) && cp results/exp02/tail.png $@

$(FIGURES)/fig2b-pareto11.png: results/pareto11/tail.csv
	$(BIN)/ltsim plot results/pareto11
	@mkdir -p $(FIGURES) && cp results/pareto11/tail.png $@

## reproduce-figures: simulate Fig. 2a (Exp(0.2)) and 2b (Pareto(1,1)) from scratch and plot
reproduce-figures: $(STAMP)
	rm -f results/exp02/tail.csv results/pareto11/tail.csv
	$(MAKE) --no-print-directory $(FIGURES)/fig2a-exp02.png $(FIGURES)/fig2b-pareto11.png
	$(BIN)/ltsim show results/exp02
	$(BIN)/ltsim show results/pareto11

## reproduce-codes: every code on Fig. 2's two systems (results/codes-exp02, codes-pareto11)
reproduce-codes: $(STAMP)
	$(BIN)/ltsim run configs/codes-exp02.yaml --force --quiet
	$(BIN)/ltsim run configs/codes-pareto11.yaml --force --quiet
	$(BIN)/ltsim plot results/codes-exp02
	$(BIN)/ltsim plot results/codes-pareto11
	@mkdir -p $(FIGURES)
	cp results/codes-exp02/tail.png $(FIGURES)/codes-exp02-tail.png
	cp results/codes-exp02/cost.png $(FIGURES)/codes-exp02-cost.png
	cp results/codes-pareto11/tail.png $(FIGURES)/codes-pareto11-tail.png
	cp results/codes-pareto11/cost.png $(FIGURES)/codes-pareto11-cost.png

## reproduce-systems: every code on the named systems of configs/ (PBS mixtures, slow machines)
reproduce-systems: $(STAMP)
	$(BIN)/ltsim run configs/exp02-threshold.yaml --force --quiet
	$(BIN)/ltsim run configs/pbs-lnkd-disk-reads.yaml --force --quiet
	$(BIN)/ltsim run configs/pbs-lnkd-disk-writes.yaml --force --quiet
	$(BIN)/ltsim run configs/pbs-ymmr.yaml --force --quiet
	$(BIN)/ltsim run configs/slow-machines.yaml --force --quiet

## reproduce-which-code: sweep tau * mu and the delay law over every code (which-code.sweep.yaml)
reproduce-which-code: $(STAMP)
	$(BIN)/ltsim sweep configs/which-code.sweep.yaml --force --quiet
	$(BIN)/ltsim plot results/which-code
	@mkdir -p $(FIGURES)
	cp results/which-code/sweep-tau.png $(FIGURES)/which-code-tau.png
	cp results/which-code/wins.png $(FIGURES)/which-code-wins.png

## reproduce-rcmv: the SIGMETRICS 2020 queueing figure against the authors' saved curves (~10 min)
reproduce-rcmv: $(STAMP)
	$(BIN)/ltsim sweep configs/queue-rcmv-exp.sweep.yaml --force --quiet
	$(BIN)/ltsim sweep configs/queue-rcmv-pareto.sweep.yaml --force --quiet
	$(BIN)/python scripts/compare_rcmv.py results/queue-rcmv-exp results/queue-rcmv-pareto \
	    --figure $(FIGURES)/queue-rcmv.png --rules 500

## reproduce-rounds: an iterative job of 100 rounds against the persistence of slow machines
reproduce-rounds: $(STAMP)
	$(BIN)/ltsim sweep configs/rounds-persistent.sweep.yaml --force --quiet
	$(BIN)/ltsim plot results/rounds-persistent
	@mkdir -p $(FIGURES)
	cp results/rounds-persistent/sweep-persistence.stay.png $(FIGURES)/rounds-persistent-stay.png

## reproduce-raptor: RFC 5053's Raptor (R10) against LT: overhead, and Fig. 2's systems (~2 min)
reproduce-raptor: $(STAMP)
	$(BIN)/ltsim run configs/raptor-overhead.yaml --force --quiet
	$(BIN)/python scripts/raptor_overhead.py results/raptor-overhead \
	    --figure $(FIGURES)/raptor-overhead.png
	$(BIN)/ltsim sweep configs/raptor-systems.sweep.yaml --force --quiet
	$(BIN)/python scripts/raptor_systems.py results/raptor-systems \
	    --figure $(FIGURES)/raptor-systems.png

## reproduce-speculation: the engines' speculation rules, defaults against the settings swept (~6 min)
reproduce-speculation: $(STAMP)
	$(BIN)/ltsim run configs/speculation-slow-machines.yaml --force --quiet
	$(BIN)/ltsim run configs/speculation-pbs.yaml --force --quiet
	$(BIN)/ltsim run configs/speculation-skew.yaml --force --quiet
	$(BIN)/ltsim run configs/speculation-skew-machines.yaml --force --quiet
	$(BIN)/ltsim sweep configs/speculation-cubed.sweep.yaml --force --quiet
	$(BIN)/ltsim sweep configs/speculation-cubed-slow.sweep.yaml --force --quiet
	$(BIN)/ltsim sweep configs/speculation-spark.sweep.yaml --force --quiet
	$(BIN)/ltsim sweep configs/speculation-spark-slow.sweep.yaml --force --quiet
	$(BIN)/ltsim sweep configs/speculation-flink.sweep.yaml --force --quiet
	$(BIN)/ltsim sweep configs/speculation-flink-slow.sweep.yaml --force --quiet
	$(BIN)/ltsim sweep configs/speculation-hadoop.sweep.yaml --force --quiet
	$(BIN)/ltsim sweep configs/speculation-hadoop-slow.sweep.yaml --force --quiet
	$(BIN)/ltsim sweep configs/speculation-late.sweep.yaml --force --quiet
	$(BIN)/ltsim sweep configs/speculation-late-slow.sweep.yaml --force --quiet
	$(BIN)/ltsim plot results/speculation-pbs
	@mkdir -p $(FIGURES)
	cp results/speculation-pbs/cost.png $(FIGURES)/speculation-pbs-cost.png
	$(BIN)/ltsim plot results/speculation-spark
	cp results/speculation-spark/frontier.png $(FIGURES)/speculation-spark-frontier.png
	$(BIN)/ltsim plot results/speculation-hadoop-slow
	cp results/speculation-hadoop-slow/frontier.png $(FIGURES)/speculation-hadoop-slow-frontier.png
	$(BIN)/ltsim plot results/speculation-skew
	cp results/speculation-skew/cost.png $(FIGURES)/speculation-skew-cost.png
	$(BIN)/ltsim plot results/speculation-skew-machines
	cp results/speculation-skew-machines/cost.png $(FIGURES)/speculation-skew-machines-cost.png

## reproduce-queueing: jobs on a loaded cluster: the flip of redundancy with load (queue-flip)
reproduce-queueing: $(STAMP)
	$(BIN)/ltsim sweep configs/queue-flip.sweep.yaml --force --quiet
	$(BIN)/ltsim plot results/queue-flip
	@mkdir -p $(FIGURES)
	cp results/queue-flip/wins.png $(FIGURES)/queue-flip-wins.png
	cp results/queue-flip/sweep-arrivals.rate.png $(FIGURES)/queue-flip-rate.png

## reproduce-execution: run configs/execute-small.yaml for real, fit the model, simulate the fit, compare
reproduce-execution: $(STAMP)
	$(BIN)/ltsim execute configs/execute-small.yaml -o results/execute-small --force --quiet
	$(BIN)/ltsim fit results/execute-small -o results/execute-small-fit.yaml --force
	$(BIN)/ltsim run results/execute-small-fit.yaml -o results/execute-small-sim --trials 5000 --force --quiet
	$(BIN)/ltsim plot results/execute-small
	@mkdir -p $(FIGURES) && cp results/execute-small/execution.png $(FIGURES)/fig2c-execute-small.png
	$(BIN)/python scripts/compare_execution.py results/execute-small results/execute-small-sim

## reproduce-all: every result the docs quote, then the docs' tables (about 15 minutes)
reproduce-all: reproduce-figures reproduce-codes reproduce-systems reproduce-which-code \
               reproduce-queueing reproduce-rcmv reproduce-rounds reproduce-raptor \
               reproduce-speculation reproduce-execution docs

## docs: rewrite the generated tables of README.md and docs/*.md from the results folders
docs: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/python scripts/update_docs.py README.md docs/*.md

## notebook: rewrite docs/examples/quickstart.ipynb and execute it in a Jupyter kernel
notebook: $(STAMP)
	$(BIN)/python scripts/make_notebook.py

## bench: run the benchmarks and write their table into docs/performance.md (about 4 minutes)
bench: $(STAMP)
	$(BIN)/python -m compileall -q simulator
	$(BIN)/python benchmarks/bench_simulator.py --write-docs

## clean: remove .venv and generated results (keeps the committed figures)
clean:
	rm -rf $(VENV) results/exp02 results/pareto11 results/exp02-threshold results/codes-* \
	       results/pbs-* results/slow-machines results/which-code results/execute-small* \
	       results/queue-flip \
	       .pytest_cache .ruff_cache
