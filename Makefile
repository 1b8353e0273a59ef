# codenook: `make run` to use it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

# llama-cpp-python is compiled here. The multimodal helper library is not used, so it is
# not built (saves minutes). CUDA only where nvcc exists *and* an NVIDIA driver answers:
# a CUDA build on a machine without the driver cannot even be imported.
HAVE_CUDA := $(shell command -v nvcc >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo yes)
# AMX is left out: some virtual machines report AMX in CPUID without enabling its tile
# state, and llama.cpp's AMX kernels then die with SIGILL ("Illegal instruction") on the
# first matrix product. Neither target machine (i7-12700KF, Xeon E5-2690 v3) has AMX.
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
LLAMA_CMAKE := -DLLAVA_BUILD=OFF -DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'
ifeq ($(HAVE_CUDA),yes)
LLAMA_CMAKE += -DGGML_CUDA=on
# A cached CPU wheel must not stand in for the CUDA build.
LLAMA_PIP := --no-cache-dir
endif

# torch goes in first and exactly pinned (as in pyproject.toml): its CPU wheel lies on the
# build machines, and a newer torch asked for by any other package is a CUDA build of
# several GB.
TORCH := torch==2.13.0

# Debian packages: what running needs, and what the tests need on top.
# bubblewrap isolates the code that `codenook run` and the assistant's tools run;
# patch (GNU) applies the review job's diffs (assist/tools/diffs.py).
RUN_DEBS := g++ python3-venv python3-tk bubblewrap patch
TEST_DEBS := $(RUN_DEBS) xvfb xauth xdotool imagemagick desktop-file-utils

# llama.cpp's own converters (convert_hf_to_gguf.py, convert_lora_to_gguf.py, their
# conversion/ package and gguf-py), from the sdist of the very llama-cpp-python installed,
# for 'codenook models import' and the adapters 'codenook tune' exports.
# Fetched here, at install time, never when codenook runs.
LLAMA_CONVERT := $(VENV)/share/codenook/llama.cpp-convert
# The sdist is kept (one download) for the llama.cpp tools below.
LLAMA_SDIST := $(VENV)/share/codenook/llama-cpp-python-sdist

# llama.cpp's own rpc-server, llama-server and llama-cli, built with the RPC backend from
# that same sdist (scripts/build-llama-tools.sh), for 'codenook serve --rpc' and pooled
# backends ('codenook backends add-pool'). Release, static, only those three targets.
LLAMA_TOOLS := $(VENV)/share/codenook/llama-tools
LLAMA_TOOLS_CMAKE := $(if $(filter yes,$(HAVE_CUDA)),-DGGML_CUDA=on)
LLAMA_TOOLS_DEBS := cmake g++

.PHONY: llama-tools
llama-tools: $(LLAMA_TOOLS)/VERSION

$(LLAMA_TOOLS)/VERSION: $(LLAMA_CONVERT)/VERSION scripts/build-llama-tools.sh
	@scripts/system-deps.sh $(LLAMA_TOOLS_DEBS)
	@set -e; v=$$(cat $(LLAMA_CONVERT)/VERSION); sdist=$(LLAMA_SDIST)/llama_cpp_python-$$v.tar.gz; \
	if [ ! -f "$$sdist" ]; then \
		mkdir -p $(LLAMA_SDIST); \
		$(PIP) download -q --no-deps --no-binary :all: "llama-cpp-python==$$v" -d $(LLAMA_SDIST); \
	fi; \
	LLAMA_TOOLS_CFLAGS='$(NO_AMX)' LLAMA_TOOLS_CMAKE='$(LLAMA_TOOLS_CMAKE)' \
		scripts/build-llama-tools.sh "$$sdist" $(LLAMA_TOOLS)

.PHONY: run setup test lint bench clean system-deps system-deps-test convert-tools

run: setup
	$(VENV)/bin/codenook

setup: $(VENV)/.installed $(LLAMA_CONVERT)/VERSION

convert-tools: $(LLAMA_CONVERT)/VERSION

$(LLAMA_CONVERT)/VERSION: $(VENV)/.installed
	@set -e; v=$$($(PY) -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))'); \
	echo "Fetching llama.cpp's GGUF converter from the llama-cpp-python $$v sdist"; \
	mkdir -p $(LLAMA_SDIST); rm -f $(LLAMA_SDIST)/*.tar.gz; \
	$(PIP) download -q --no-deps --no-binary :all: "llama-cpp-python==$$v" -d $(LLAMA_SDIST); \
	src=llama_cpp_python-$$v/vendor/llama.cpp; \
	rm -rf $(LLAMA_CONVERT); mkdir -p $(LLAMA_CONVERT); \
	tar xzf $(LLAMA_SDIST)/llama_cpp_python-$$v.tar.gz -C $(LLAMA_CONVERT) --strip-components=3 \
		$$src/convert_hf_to_gguf.py $$src/convert_lora_to_gguf.py $$src/conversion $$src/gguf-py; \
	echo "$$v" > $@

test: $(VENV)/.installed-dev $(LLAMA_CONVERT)/VERSION $(LLAMA_TOOLS)/VERSION system-deps-test lint
	$(PY) -m pytest

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/lint-imports

bench: $(VENV)/.installed-bench $(LLAMA_TOOLS)/VERSION
	@set -e; for b in benchmarks/[!_]*.py; do echo "== $$b"; $(PY) $$b; done

system-deps:
	@scripts/system-deps.sh $(RUN_DEBS)

system-deps-test:
	@scripts/system-deps.sh $(TEST_DEBS)

$(PY):
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install $(TORCH)
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(PIP) install $(LLAMA_PIP) -e '.[torch]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PIP) install $(TORCH)
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(PIP) install $(LLAMA_PIP) -e '.[dev]'
	@touch $@ $(VENV)/.installed

# The benchmarks' own peers (gpt4all's bindings, for benchmarks/peers.py): not for tests.
$(VENV)/.installed-bench: $(VENV)/.installed-dev
	CMAKE_ARGS="$(LLAMA_CMAKE)" $(PIP) install $(LLAMA_PIP) -e '.[dev,bench]'
	@touch $@

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .ruff_cache .import_linter_cache

# -- The Debian package (packaging/; README "Install as a package") -----------------------
# `make deb` builds dist/codenook_VERSION_amd64.deb with Debian's own python3, wheels kept in
# build/deb-cache (DEB_CACHE). `make test-deb` builds it, installs it into a Debian 12 root made
# with debootstrap under build/test-deb (nothing goes into this machine's own system), and
# checks running, the manual, the menu entry, purge, an upgrade, and llama.cpp on a Haswell.
DEB_DEBS := dpkg-dev fakeroot help2man lintian desktop-file-utils python3-venv cmake g++ git
TEST_DEB_DEBS := $(DEB_DEBS) debootstrap qemu-user-static binutils

.PHONY: deb deb-torch test-deb
deb:
	@scripts/system-deps.sh $(DEB_DEBS)
	packaging/build-deb.sh

# codenook-torch: the PyTorch part as a second package (README says why).
deb-torch: deb
	packaging/build-deb-torch.sh

test-deb:
	@scripts/system-deps.sh $(TEST_DEB_DEBS)
	packaging/test-deb.sh
