# Two commands on a fresh clone: `make demo` and `make test` (both create .venv on first use).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test bench bench-venv bench-accuracy clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/hub demo

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m benchmarks ingest --customers 100000

# recordlinkage (the baseline) needs pandas < 3: it lives in its own venv, used by subprocess.
BENCH_VENV  := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed-stamp

$(BENCH_STAMP): benchmarks/requirements-baseline.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r benchmarks/requirements-baseline.txt
	touch $(BENCH_STAMP)

bench-venv: $(BENCH_STAMP)

bench-accuracy: install bench-venv
	$(BIN)/python -m pytest -q -m bench_venv tests/benchmarks
	$(BIN)/python -m benchmarks accuracy --dataset all --data data/bench

clean:
	rm -rf $(VENV) $(BENCH_VENV) data/demo data/bench .pytest_cache .hypothesis
