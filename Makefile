PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc)
# llama.cpp is built for any x86-64 CPU with AVX2. A build for this CPU's every feature
# (GGML_NATIVE) takes in llama.cpp's AMX kernels, which crash on machines whose kernel does
# not grant AMX to the process.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON

.PHONY: run test format bench lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

run: $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[local]'
	$(BIN)/automuse run

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[local,dev]'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# The benchmarks, in the benchmark issue's order (see bench/README.md); never part of `make test`.
bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[local,bench]'
	$(BIN)/python -m bench.loops
	$(BIN)/python -m bench.growth
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.local_speed
	$(BIN)/python -m bench.quality
	$(BIN)/python -m bench.ballots

format: $(BIN)/python
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Refresh constraints.txt, the versions `make run`, `make test` and `make bench` install: every
# extra at the newest version pyproject.toml allows, then frozen.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade -e '.[local,dev,bench]'
	$(BIN)/python -m pip freeze --exclude-editable > constraints.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
