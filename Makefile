# astrad: build, run, test, fuzz, bench.
#   make            build build/astrad (gcc, -O2)
#   make SAN=1      build build-asan/ with clang, ASan+UBSan
#   make run        install missing packages (as root), build, start with data in ./data
#   make test       the whole suite (tests/run.sh), ending with "N passed, N failed"
# Sources are found by wildcard, so a new file under src/ or tests/unit/ needs no edit here.

PKGS    := libuv libmicrohttpd libcurl jansson libwebsockets openssl uuid zlib
VERSION := $(shell cat VERSION)
SAN     ?= 0

ifeq ($(SAN),1)
  CC      := clang
  BUILD   ?= build-asan
  SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  OPT     := -O1
else
  CC      ?= cc
  BUILD   ?= build
  SANFLAGS :=
  OPT     := -O2
endif

CFLAGS  := -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla $(OPT) -g \
           -D_GNU_SOURCE -DASTRA_VERSION='"$(VERSION)"' -Iinclude \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS)
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

SRCS      := $(sort $(shell find src -name '*.c'))
LIB_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(filter-out src/index.c,$(SRCS)))
MAIN_OBJ  := $(BUILD)/src/index.o
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
HDRS      := $(shell find include src -name '*.h') tests/unit/harness.h

.PHONY: all run test unit fuzz bench format clean deps
all: $(BUILD)/astrad

deps:
	@bash scripts/deps.sh build

$(BUILD)/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libastra.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/astrad: $(MAIN_OBJ) $(BUILD)/libastra.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/tests/harness.o $(BUILD)/libastra.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/tests/harness.o $(BUILD)/libastra.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/harness.o: tests/unit/harness.c tests/unit/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

$(BUILD)/bench/%: bench/%.c $(BUILD)/libastra.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libastra.a $(LDFLAGS) $(LDLIBS)

# Unit test binaries, for tests/run.sh.
unit: $(BUILD)/astrad $(UNIT_BINS)

run: deps all
	./$(BUILD)/astrad

test:
	@bash tests/run.sh

# Fuzz targets under libFuzzer (clang); each runs for FUZZ_SECONDS.
FUZZ_SECONDS ?= 30
fuzz:
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

bench: all $(BENCH_BINS)
	@bash bench/run.sh

format:
	clang-format -i $(SRCS) $(shell find include tests/unit bench -name '*.[ch]')

clean:
	rm -rf build build-asan build-fuzz
