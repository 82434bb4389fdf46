# Two entry points: `make run` (the self-check and throughput table) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test install-run install-test install-bench bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install-run: $(PY)
	$(PIP) install --quiet "maturin>=1.5,<2"
	$(PY) -m maturin develop --release --quiet

install-test: $(PY)
	$(PIP) install --quiet "maturin>=1.5,<2"
	$(PY) -m maturin develop --release --quiet --extras test,torch

run: install-run
	$(PY) -m seedstream

test: install-test
	cargo test --workspace
	$(PY) -m mypy.stubtest seedstream._core
	$(PY) -m pytest -m "not slow"

install-bench: $(PY)
	$(PIP) install --quiet "maturin>=1.5,<2"
	$(PY) -m maturin develop --release --quiet --extras bench

# The full benchmark (seedstream vs NumPy and torch); writes benches/results/<host>-<date>.*
bench: install-bench
	$(PY) -m seedstream bench

clean:
	rm -rf $(VENV) target
