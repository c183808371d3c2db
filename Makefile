# SPDX-License-Identifier: MIT
#
# virgo: the front door. Meson does the building; this file only names the
# common jobs. Every target installs what it needs first (scripts/setup.sh is
# a fast no-op when everything is present).
#
#   make / make build   native build in build/native
#   make check          every test suite (scripts/check.sh), ends "N passed, N failed"
#   make check-unit     unit tests under ASan/UBSan (build/asan)
#   make check-uapi     the uAPI's encodings and the Linux transport (build/asan)
#   make check-layout   kmd/core without call circles, no OS headers, no borrowed files
#   make check-win      the Windows kernel driver cross-built with MinGW-w64 (build/win64) and checked
#   make check-win32    the x86 build (build/win32, build/mesa-win32) checked
#   make check-reactos  virgo installed and run on ReactOS in QEMU (skips without a ReactOS disk or source)
#   make dist           the Windows driver package in build/dist/
#   make check-mesa     Mesa with the virgo winsys through virgo-host (builds it: make mesa-linux)
#   make check-wine     Windows GL programs under Wine on our Mesa DLLs (builds them: make mesa-win64)
#   make piglit-parity  2,160 piglit tests through virgo and through Debian's virpipe, side by side
#   make soak           16 clients for 10 minutes through virgo-host, then leak counts (soak-smoke: 1 minute, in make check)
#   make bench          benchmarks: virgo vs virpipe vs native llvmpipe, 1-64 clients (docs/performance.md)
#   make fuzz           the fuzzers, FUZZ_SECONDS each (make fuzz-smoke: fixed runs, in make check)
#   make check-qemu     the scenario suite in a Linux guest on QEMU's virtio-gpu-gl (docs/qemu.md)
#   make demo           a Windows GL program under Wine through the whole stack: build/demo.png
#   make demo-uapi      the triangle straight through the uAPI (no Mesa): build/demo.png
#   make clean          remove build/

# Debian's meson (it runs on /usr/bin/python3, which has mako); /usr/bin first
# so no other python3, meson or ninja on PATH is picked up.
export PATH := /usr/bin:/bin:$(PATH)
MESON := /usr/bin/meson
MAKEFLAGS += --no-print-directory

BUILD  := build
NATIVE := $(BUILD)/native
ASAN   := $(BUILD)/asan
WIN64  := $(BUILD)/win64
WIN32  := $(BUILD)/win32
CROSS  := cross/mingw-w64-x86_64.txt
CROSS32 := cross/mingw-w64-i686.txt

UNIT_TESTS := $(ASAN)/tests/unit/unit-tests

# (in variables: commas inside $(call ...) arguments would split them)
NATIVE_OPTS :=
ASAN_OPTS   := -Db_sanitize=address,undefined -Db_lundef=false
WIN64_OPTS  := --cross-file $(CROSS)
WIN32_OPTS  := --cross-file $(CROSS32)

export ASAN_OPTIONS  ?= detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1

# $(call configure,DIR,MESON-ARGS): set DIR up once; later builds let ninja
# re-run meson when a meson.build changes. A half-configured DIR is redone.
# Optional folders join when their meson.build appears, which ninja cannot
# see: a meson.build newer than the build tree reconfigures it.
define configure
	@if [ ! -f $(1)/build.ninja ]; then \
		rm -rf $(1) && $(MESON) setup $(1) $(2); \
	elif [ -n "$$(find . -path ./build -prune -o -name meson.build -newer $(1)/build.ninja -print | head -1)" ]; then \
		$(MESON) setup --reconfigure $(1) $(2) >/dev/null; \
	fi
endef

.PHONY: all build setup native asan win64 win32 mesa-win32 check-win32 check-reactos check check-unit check-uapi check-layout check-win check-scenarios check-host check-qemu check-mesa piglit-parity bench bench-smoke soak soak-smoke mesa-linux mesa-win64 check-wine demo-uapi dist fuzz fuzz-smoke demo clean

all: build

setup:
	@[ -n "$$VIRGO_SETUP_DONE" ] || bash scripts/setup.sh

build: native

native: setup
	$(call configure,$(NATIVE),$(NATIVE_OPTS))
	$(MESON) compile -C $(NATIVE)

asan: setup
	$(call configure,$(ASAN),$(ASAN_OPTS))
	$(MESON) compile -C $(ASAN)

win64: setup
	$(call configure,$(WIN64),$(WIN64_OPTS))
	$(MESON) compile -C $(WIN64)

# The x86 build: virgo.sys for 32-bit Windows and ReactOS, the 32-bit
# transport and tools (x64 Windows runs them under WOW64).
win32: setup
	$(call configure,$(WIN32),$(WIN32_OPTS))
	$(MESON) compile -C $(WIN32)

check:
	@bash scripts/check.sh

check-unit: asan
	@test -x $(UNIT_TESTS) || { echo "check-unit: $(UNIT_TESTS) was not built (tests/unit/meson.build must build 'unit-tests')" >&2; exit 1; }
	$(UNIT_TESTS)

# The uAPI's encodings and the Linux transport against a scripted peer,
# under ASan/UBSan.
check-uapi: asan
	$(ASAN)/tests/uapi/uapi-tests

# The layout the architecture promises: no call circle between kmd/core's
# files, no OS header in kmd/core, no component building another's files.
check-layout: native
	@/usr/bin/python3 tests/layout/check.py $(NATIVE)

# The scenario suite on the embedded host, both under ASan/UBSan.
check-scenarios: asan
	$(ASAN)/tests/scenarios/run-host $(ASAN)/host/virgo-host

# virgo-host's device against a hostile guest. LeakSanitizer is off: Mesa's
# driver leaks from a module it unloads at exit, which cannot be attributed;
# the device's own counts are checked instead.
check-host: asan
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 $(ASAN)/tests/host/host-tests

# The scenario suite inside a Linux guest on QEMU 7.2's virtio-gpu-gl (docs/qemu.md).
check-qemu: native
	@bash scripts/qemu/check.sh

# The Windows kernel driver: PE, imports, signature, catalog, INF, request
# decoding, exception handling (some under Wine).
check-win: win64 native asan mesa-win64
	@bash tests/win/check.sh $(WIN64)

# The x86 build: the driver image against an NT 5.2 kernel's exports, its
# signature, the x86 SEH frame (under 32-bit Wine where the machine runs
# 32-bit programs), Mesa's x86 DLLs.
check-win32: win32 mesa-win32
	@bash tests/win/check-x86.sh $(WIN32)

# virgo on ReactOS (x86) in QEMU: the driver installed by its installer,
# GL through ReactOS's opengl32 and our ICD (scripts/reactos, docs/reactos.md).
# Skips, saying so, without a ReactOS disk or VIRGO_REACTOS_SRC.
check-reactos: win32 mesa-win32
	@if [ -f build/reactos/base.img ] || [ -n "$$VIRGO_REACTOS_SRC" ]; then $(MAKE) dist >/dev/null; fi
	@bash scripts/reactos/check.sh

# Fuzzers (tests/fuzz, libFuzzer + ASan/UBSan): the core's uAPI against the
# fake device, virgo-host's device model, its transport decoder. `make fuzz`
# runs each for FUZZ_SECONDS with a random seed; `make fuzz-smoke`, part of
# `make check`, makes a fixed number of runs with a fixed seed (the same
# inputs on any machine; about a minute).
FUZZ_SECONDS ?= 3600
fuzz: setup
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-smoke: setup
	@FUZZ_SEED=1 FUZZ_SMOKE=1 bash scripts/fuzz.sh 60

# Mesa 22.3.6 with the virgo winsys, for Linux (umd/mesa/README.md); and its
# smoke suite through virgo-host: GL version and renderer, piglit tests that
# pass on Debian's virpipe too, the host's clean shutdown.
mesa-linux: native
	@bash umd/mesa/build.sh linux

check-mesa: native
	@bash umd/mesa/smoke.sh

# piglit quick_gl tests (tests/piglit/parity-tests.txt) through Debian's
# virpipe and through virgo in one job: each that passes on virpipe must pass
# on virgo, unless tests/piglit/known-differences.txt says why it cannot.
piglit-parity: native mesa-linux
	@bash tests/piglit/parity.sh

# Soak (docs/reliability.md): 16 clients creating, mapping, submitting and
# waiting through virgo-host; afterwards resources, handles, guest pages,
# file descriptors and memory must be back at their baseline.
SOAK_SECONDS ?= 600
soak: native
	@bash tests/soak/run.sh $(SOAK_SECONDS)

soak-smoke: native
	@bash tests/soak/run.sh 60

# Benchmarks (docs/performance.md): virgo vs virpipe vs native llvmpipe, the
# uAPI round trip, 1-64 clients; build/bench/results.json and a chart.
# bench-smoke (in make check) runs a few frames of each and judges nothing.
bench: native mesa-linux
	@/usr/bin/python3 bench/run.py

bench-smoke: native mesa-linux
	@/usr/bin/python3 bench/run.py --smoke

# Mesa for Windows (MinGW-w64): build/mesa-win64/install/bin/virgo_icd64.dll
# (the ICD) and opengl32.dll (app-local). About 8 min clean, 20 s with ccache.
mesa-win64: setup
	@bash umd/mesa/build.sh windows

# The same for x86: build/mesa-win32/install/bin/virgo_icd32.dll and its
# opengl32.dll (32-bit programs, WOW64 on x64 Windows, ReactOS).
mesa-win32: setup
	@bash umd/mesa/build.sh windows32

# Windows programs under Wine on those DLLs, through TCP to virgo-host: the
# transport (tests/wine/vtp) and WGL programs with pixel checks, SwapBuffers,
# a resize and a screenshot of the presented frame (tests/wine/gl).
check-wine: native win64 mesa-win64
	@bash scripts/check-wine.sh

# The Windows driver package: build/dist/virgo-win64/ and its zip.
dist: win64 mesa-win64
	@bash scripts/dist.sh --build $(WIN64) --strict

# The demo: gl_demo.exe (tests/wine/gl) under Wine on our DLLs, through
# TCP to virgo-host; its window, grabbed from the screen, is build/demo.png.
demo: native mesa-win64
	@VIRGO_WIN_DLLS=build/mesa-win64/install/bin bash tests/wine/demo.sh

demo-uapi: native
	@bash scripts/demo.sh

clean:
	rm -rf $(BUILD)
