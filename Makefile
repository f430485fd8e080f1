# scandiff — the two commands of the quick start:
#   make demo   install dependencies, build, run the demo on a built-in simulated scan
#   make test   install dependencies, build, run every test (C++ units, CLI and Python end to end,
#               the whole C++ suite again under AddressSanitizer + UBSan, and 30 s of libFuzzer
#               on the Merlin header parser)
# Other targets: build, python (pip install the scandiff package), bench, sanitize, fuzz, clean.

JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
PYTHON ?= python3
# Warnings are errors in CI (CI=true is set there).
WERROR ?= $(if $(CI),ON,OFF)
CMAKE_FLAGS = -G Ninja -DCMAKE_BUILD_TYPE=Release -DSCANDIFF_WERROR=$(WERROR)

.PHONY: deps build python demo test test-cpp test-python sanitize fuzz bench clean

deps:
	@bash scripts/install-deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/scandiff demo --out demo-output

test-cpp: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The Python package (pyproject.toml): built with the project's CMake in the persistent
# build-python/ folder (incremental), without build isolation (nanobind and scikit-build-core come
# from install-deps, nothing is downloaded at build time).
# (PIP_BREAK_SYSTEM_PACKAGES: a Debian system Python refuses pip installs without it.)
python: deps
	CMAKE_BUILD_PARALLEL_LEVEL=$(JOBS) PIP_BREAK_SYSTEM_PACKAGES=1 \
	  $(PYTHON) -m pip install -q --no-build-isolation --no-deps -C cmake.define.SCANDIFF_WERROR=$(WERROR) .

test-python: build python
	SCANDIFF_BUILD=$(abspath $(BUILD)) $(PYTHON) -m pytest -q tests/python

sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSCANDIFF_SANITIZE=ON \
	  -DSCANDIFF_BENCH=OFF -DSCANDIFF_WERROR=$(WERROR) -DCMAKE_CXX_FLAGS="-O1"
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -E 'Slow'

# libFuzzer (clang) on the parsers, each bounded to FUZZ_SECONDS.
fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_CXX_COMPILER=clang++ -DSCANDIFF_FUZZ=ON -DSCANDIFF_TESTS=OFF -DSCANDIFF_BENCH=OFF \
	  -DSCANDIFF_WERROR=$(WERROR)
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_mib_header fuzz_image_headers
	bash tests/fuzz/run_fuzz_mib_header.sh $(FUZZ_BUILD)/fuzz_mib_header $(FUZZ_SECONDS)
	bash tests/fuzz/run_fuzz_image_headers.sh $(FUZZ_BUILD)/fuzz_image_headers 10

test: sanitize fuzz test-cpp test-python

bench: build python
	$(BUILD)/bench_engine
	$(BUILD)/bench_simulator
	$(BUILD)/bench_mib
	$(PYTHON) bench/compare_numpy.py --build $(BUILD)
	$(BUILD)/bench_stem_imaging
	$(PYTHON) bench/compare_py4dstem_polar.py --build $(BUILD)
	$(PYTHON) bench/compare_imaging.py --build $(BUILD)
	$(BUILD)/bench_sxdm --gib 2 --memory-mib 1024
	$(BUILD)/bench_sxdm --roi-scaling
	$(PYTHON) bench/compare_sxdm_numpy.py --build $(BUILD)
	$(PYTHON) bench/compare_py4dstem_bragg.py --build $(BUILD)
	$(PYTHON) bench/python_api.py
	$(PYTHON) bench/compare_rsciio_convert.py --build $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-python demo-output
