# Two entry points: `make run` (the self-check and throughput table) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: run test lint install-run install-test install-bench bench batteries clean

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

# Enforces clippy.toml's ban on libm and fused multiply-add calls where clippy is installed.
lint:
	@if cargo clippy --version >/dev/null 2>&1; then \
		cargo clippy --workspace --all-targets --quiet -- -D clippy::disallowed_methods; \
	else echo "cargo clippy not installed: skipping the disallowed-methods lint"; fi
	@# aarch64 (the portable batched path, NEON): type-checked where rustup has the target.
	@if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then \
		RUSTFLAGS="-D warnings" cargo check --quiet --workspace --all-targets --target aarch64-unknown-linux-gnu; \
	else echo "rustup target aarch64-unknown-linux-gnu not installed: skipping the aarch64 check"; fi

test: install-test lint
	cargo test --workspace
	$(PY) -m mypy.stubtest seedstream._core
	$(PY) -m pytest -m "not slow"

install-bench: $(PY)
	$(PIP) install --quiet "maturin>=1.5,<2"
	$(PY) -m maturin develop --release --quiet --extras bench

# The full benchmark (seedstream vs NumPy and torch); writes benches/results/<host>-<date>.*
bench: install-bench
	$(PY) -m seedstream bench

# dieharder (Debian: apt-get install dieharder) and NIST SP 800-22 (nistrng) on raw, child,
# consecutive-seed and pcg64 streams: about 25 min on 2 cores, not part of `make test`;
# writes benches/results/batteries-<host>-<date>.{md,json}.
batteries: $(PY)
	$(PIP) install --quiet "maturin>=1.5,<2"
	$(PY) -m maturin develop --release --quiet --extras batteries
	nice -n 10 $(PY) benches/stat_batteries.py

clean:
	rm -rf $(VENV) target
