# cex: the two entry points are `make run` and `make test`.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Extra arguments for `cex serve`, e.g. make run ARGS="--port 8080 --config etc/config".
ARGS ?=

# Seconds the parser fuzzer runs in `make test`.
FUZZ_SECONDS ?= 60

.PHONY: all deps test-deps configure build run test fuzz bench format clean

all: build

deps:
	@scripts/install-deps

test-deps:
	@scripts/install-deps --test

configure:
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: deps configure
	@cmake --build $(BUILD) -j $(JOBS)

# Only the executable: the tests and benchmarks are built by `make test` and `make build`.
run: deps configure
	@cmake --build $(BUILD) --target cex -j $(JOBS)
	./$(BUILD)/cex serve $(ARGS)

test: test-deps configure
	@cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory fuzz

# The asm parsers under libFuzzer with ASan and UBSan (clang), from the seeds in tests/fuzz.
fuzz: test-deps
	@CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCEX_FUZZ=ON -DCEX_BUILD_TESTS=OFF \
	  -DCEX_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build-fuzz --target asm_fuzz -j $(JOBS)
	scripts/run-fuzz build-fuzz/asm_fuzz tests/fuzz/asm_seeds $(FUZZ_SECONDS)

bench: build
	/usr/bin/python3 bench/e2e_compile.py --cex $(BUILD)/cex

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD) build-fuzz
