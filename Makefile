# Two commands do all set-up on a fresh machine:  make demo  /  make test
VENV := .venv
BIN := $(VENV)/bin
# The venv is rebuilt when the pins change (its stamp is older than pyproject.toml) and when
# PYTHON names a Python of another version than the venv's.
STAMP := $(VENV)/.installed
CORES ?= 2

# The venv's Python: the newest supported one that starts. Running it, not finding it on the
# PATH, is the test: pyenv puts a shim for every version it knows on the PATH, and a shim fails
# for a version that is not selected; Debian's python3.X lacks venv without python3.X-venv.
# PYTHON=... (make's command line or the environment) names one instead.
SUPPORTED_PYTHONS := python3.13 python3.12 python3.11
USABLE := -c 'import sys, venv, ensurepip; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))'
MINOR_VERSION := -c 'import sys; print(*sys.version_info[:2], sep=".")'
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach p,$(SUPPORTED_PYTHONS),$(shell $(p) $(USABLE) >/dev/null 2>&1 && echo $(p))))
else ifneq ($(shell $(PYTHON) $(MINOR_VERSION) 2>/dev/null),$(shell $(BIN)/python $(MINOR_VERSION) 2>/dev/null))
# A detected Python never rebuilds an existing venv (a newer one appearing on the PATH would
# otherwise replace it, torch build and all); one named explicitly does, if its version differs.
.PHONY: $(STAMP)
endif

REQUIRE_PYTHON = if ! $(PYTHON) $(USABLE) 2>/dev/null; then echo "make: no usable Python 3.11-3.13" \
	"among $(or $(PYTHON),$(SUPPORTED_PYTHONS)); install one (with venv) or set PYTHON=..." >&2; exit 1; fi

.PHONY: demo test test-fast lint bench test-cluster rehearsal check-wheels clean-results venv rulegraph

$(STAMP): pyproject.toml
	@$(REQUIRE_PYTHON)
	@echo "make: building $(VENV) with $$($(PYTHON) -c 'import sys; print(sys.executable, sys.version.split()[0])')"
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

# Without the venv: every pin has a wheel for every supported Python (reads the index only).
check-wheels:
	@$(REQUIRE_PYTHON)
	$(PYTHON) tests/wheels/check_wheels.py

test-cluster: $(STAMP)
	PATH=$(CURDIR)/$(BIN):$$PATH bash tests/cluster/run_slurm_test.sh

# config/paper.yaml's path, one fold at the paper's model size on the CPU (tests/rehearsal/).
rehearsal: $(STAMP)
	$(BIN)/python tests/rehearsal/run_rehearsal.py

# The pipeline as a picture (README): `snakemake --rulegraph` of the default config, edges sorted,
# to docs/rulegraph.dot, rendered by graphviz's dot to docs/rulegraph.svg (which records the .dot's digest).
rulegraph: $(STAMP)
	$(BIN)/python docs/rulegraph.py --snakemake $(BIN)/snakemake

clean-results:
	rm -rf results logs .snakemake
