# FireFly-S. `make demo` and `make test` install what is missing (apt + .venv) first.
PY := .venv/bin/python
MODEL ?= artifacts/mnist-scnn5/model.ffs
# pytest workers (pytest-xdist); one test file stays on one worker, so module fixtures are built once;
# the 15 slowest tests are listed at the end (the CI log shows where its time goes)
TEST_JOBS ?= 2
PYTEST := $(PY) -m pytest -q -n $(TEST_JOBS) --dist loadfile --durations=15

.PHONY: setup demo test test-fast golden-bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	@bash scripts/demo.sh $(MODEL)

test: setup
	@$(PYTEST); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

test-fast: setup
	@$(PYTEST) -m "not slow"

golden-bench: setup
	@$(PY) bench/golden_mnist.py

clean:
	rm -rf build
