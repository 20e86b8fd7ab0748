PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc)

.PHONY: run test format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

run: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[local]'
	$(BIN)/automuse run

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[local,dev]'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# The benchmarks, in the benchmark issue's order (see bench/README.md); never part of `make test`.
bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[local,bench]'
	$(BIN)/python -m bench.loops
	$(BIN)/python -m bench.growth
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.local_speed
	$(BIN)/python -m bench.quality

format: $(BIN)/python
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
