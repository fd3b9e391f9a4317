# cex: the two entry points are `make run` and `make test`.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Extra arguments for `cex serve`, e.g. make run ARGS="--port 8080 --config etc/config".
ARGS ?=

.PHONY: all deps test-deps configure build run test bench format clean

all: build

deps:
	@scripts/install-deps

test-deps:
	@scripts/install-deps --test

configure:
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: deps configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/cex serve $(ARGS)

test: test-deps configure
	@cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	/usr/bin/python3 bench/e2e_compile.py --cex $(BUILD)/cex

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD)
