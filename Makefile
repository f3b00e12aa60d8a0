# Two commands do all set-up on a fresh machine:  make demo  /  make test
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The venv is rebuilt only when the pins change (its stamp is older than pyproject.toml).
STAMP := $(VENV)/.installed
CORES ?= 2

.PHONY: demo test test-fast lint bench test-cluster clean-results

$(STAMP): pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --resources gpu=0

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check Snakefile rules/
	$(BIN)/snakemake --lint
	$(BIN)/pytest -q

test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/snakefmt --check Snakefile rules/
	$(BIN)/snakemake --lint

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

test-cluster: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH bash tests/cluster/run_slurm_test.sh

clean-results:
	rm -rf results logs .snakemake
