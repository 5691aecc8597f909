# GC-Forged-Pylot: `make run` sets everything up and starts the server; `make test` sets up and runs every test.
# Both are idempotent; heavy builds are cached under ~/.cache/pylot. Windows without make: see README.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PYLOT  := $(VENV)/bin/pylot
MODEL  ?= qwen2.5-coder-0.5b
PYTEST_ARGS ?=

.PHONY: run test setup model models-test llama-server web web-unit vscode-unit vscode-e2e lint requirements bench clean

setup:
	$(PYTHON) scripts/bootstrap.py

model: setup
	$(PYLOT) models pull $(MODEL)

# The small models the tests run against.
models-test: setup
	$(PYLOT) models pull qwen2.5-coder-0.5b
	$(PYLOT) models pull smollm2-135m
	$(PY) -c "from pylot.config.settings import Settings as S; from pylot.bridge.tools.embedder import ensure_minilm as m; s = S(); print(m(s.store_dir(), s.home() / 'downloads' / 'models'))"

llama-server: setup
	$(PY) scripts/build_llama_server.py

# The web console: npm ci + vite build into src/pylot/web/static (skipped when nothing changed).
web:
	bash scripts/build_web.sh

run: model
	bash scripts/build_web.sh --optional
	$(PYLOT) serve

# The extension's unit tests, then what the real-VS Code tests need (Node 24, code-server, Chromium, the .vsix).
vscode-unit:
	cd vscode-extension && npm ci --no-audit --no-fund --cache $(HOME)/.cache/pylot/npm && npm test

vscode-e2e: setup
	bash scripts/e2e_vscode_setup.sh

web-unit: web
	cd web-ui && npm run typecheck && npm test

test: models-test llama-server web-unit vscode-unit vscode-e2e
	PYLOT_REQUIRE_E2E=1 $(PY) -m pytest $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks scripts examples
	$(VENV)/bin/mypy

# requirements.txt is generated from pyproject.toml (the one source of truth) and checked by a test.
requirements: setup
	$(PY) scripts/gen_requirements.py

bench: models-test llama-server
	$(PY) benchmarks/engine_overhead.py
	$(PY) benchmarks/keystroke_latency.py
	$(PY) benchmarks/humaneval_infill.py --set single --limit 100
	$(PY) benchmarks/multiline_infill.py
	$(PY) benchmarks/balancer.py
	$(PY) benchmarks/semantic_search.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .mypy_cache
