# A thin wrapper over CMake. `make run` and `make check` are the two commands a fresh machine needs.
BUILD      ?= build
RVKVM_CACHE ?= $(HOME)/.cache/rvkvm
export RVKVM_CACHE
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_GEN  := -G Ninja

.PHONY: all setup build build-asan check check-asan run bench clean

all: build

setup:
	@bash scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: setup
	@cmake -S . -B $(BUILD_ASAN) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DRVKVM_SANITIZE=ON -DRVKVM_BENCH=OFF >/dev/null
	@cmake --build $(BUILD_ASAN) -j $(JOBS)

# Every tier in the release build, then the unit tier under AddressSanitizer + UBSan.
check: build build-asan
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS) -L unit

# Boots the default guest: Debian's riscv64 kernel with a busybox initramfs (fetched once into
# $(RVKVM_CACHE)). `poweroff` in the guest, or Ctrl-A x, ends it.
run: build
	@bash scripts/fetch-guest.sh >/dev/null
	@$(BUILD)/rvkvm run -k $(RVKVM_CACHE)/Image -i $(RVKVM_CACHE)/initramfs.cpio.gz -m 512M

bench: build
	@bash bench/sim.sh $(BUILD)
	@$(BUILD)/bench/hyp_bench
	@bash bench/boot.sh $(BUILD)
	@bash bench/workload.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
