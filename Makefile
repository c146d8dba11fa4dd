# ltsim: `make` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FIGURES := results/figures

.DEFAULT_GOAL := help
.PHONY: help install test lint reproduce-figures reproduce-execution bench clean

## help: list the targets (this text)
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## /  make /' -e 's/: /\t/'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

## install: create .venv and install ltsim with its test tools
install: $(STAMP)

## test: run ruff and the whole test suite (creates .venv if needed)
test: $(STAMP)
	$(BIN)/ruff check simulator tests benchmarks scripts
	$(BIN)/python -m pytest

## lint: ruff only
lint: $(STAMP)
	$(BIN)/ruff check simulator tests benchmarks scripts

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

## reproduce-execution: run configs/execute-small.yaml for real, fit the model, simulate the fit, compare
reproduce-execution: $(STAMP)
	$(BIN)/ltsim execute configs/execute-small.yaml -o results/execute-small --force --quiet
	$(BIN)/ltsim fit results/execute-small -o results/execute-small-fit.yaml
	$(BIN)/ltsim run results/execute-small-fit.yaml -o results/execute-small-sim --trials 5000 --force --quiet
	$(BIN)/ltsim plot results/execute-small
	@mkdir -p $(FIGURES) && cp results/execute-small/execution.png $(FIGURES)/fig2c-execute-small.png
	$(BIN)/python scripts/compare_execution.py results/execute-small results/execute-small-sim

## bench: print the simulator benchmark table (a few minutes)
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_simulator.py

## clean: remove .venv and generated results (keeps the committed figures)
clean:
	rm -rf $(VENV) results/exp02 results/pareto11 results/execute-small* .pytest_cache .ruff_cache
