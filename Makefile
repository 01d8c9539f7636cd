# shopagent: two commands.
#   make run   install everything, prepare models/store/index, start the service on embedded defaults
#   make test  install the same way, run the whole test suite (offline: network namespace, loopback only)

PYTHON     ?= python3
VENV       ?= .venv
BIN        := $(VENV)/bin
PIP        := $(BIN)/python -m pip
STAMP      := $(VENV)/.installed
PYTEST_ARGS ?= -q --durations=15

# Debian/Ubuntu packages: build tools for llama.cpp, test audio and voices, the widget's browser,
# and PostgreSQL for the store tests. Only missing ones are installed.
APT_PACKAGES := build-essential cmake python3-venv espeak-ng pocketsphinx-testdata sox chromium postgresql iproute2
SUDO       := $(if $(filter 0,$(shell id -u)),,sudo)

# llama.cpp is compiled from source: only the library, for AVX2-class x86-64 CPUs (portable across
# them, unlike -march=native). On other CPUs override LLAMA_CMAKE_ARGS.
LLAMA_CMAKE_ARGS ?= -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF \
	-DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON \
	-DGGML_FMA=ON -DGGML_F16C=ON

# Tests run in a private network namespace with only loopback up, so any hub call fails at once.
OFFLINE    := $(shell unshare -n true 2>/dev/null && echo "unshare -n" || (unshare -rn true 2>/dev/null && echo "unshare -rn"))

.PHONY: run test install apt lock serve prepare clean
run: install
	$(BIN)/shopagent prepare
	exec $(BIN)/shopagent serve

test: install
ifneq ($(OFFLINE),)
	$(OFFLINE) sh -c 'ip link set lo up && exec "$$@"' offline $(BIN)/python -m pytest $(PYTEST_ARGS)
else
	@echo "warning: cannot create a network namespace; running tests with the network reachable" >&2
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

install: $(STAMP)

$(STAMP): pyproject.toml requirements/lock.txt
	$(MAKE) apt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip==24.3.1"
	# torch first and alone, so nothing can pull a multi-GB CUDA build instead of the CPU wheel.
	$(PIP) install --quiet --no-deps "torch==2.13.0"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
		$(PIP) install --require-hashes --no-deps -r requirements/lock.txt
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

lock:
	$(BIN)/python requirements/lock.py

clean:
	rm -rf $(VENV) build *.egg-info
