# atx - plain make.  `make` builds, `make check` tests everything,
# `make run` runs the main job, `make V=1` shows full commands.
# ./configure writes config.mk (run automatically when missing).

# config.mk is needed (and so generated) by every goal except cleaning.
ifneq ($(filter-out clean distclean,$(or $(MAKECMDGOALS),all)),)
-include config.mk
endif

PREFIX ?= /usr/local
BUILD ?= release
O := build/$(BUILD)
SONAME := libatx.so.0
LIBVER := 0.1.0

ifeq ($(V),1)
Q :=
else
Q := @
endif

CC ?= cc
WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wpointer-arith -Wstrict-prototypes
BASE_CFLAGS := -std=gnu11 -g -fPIC -D_GNU_SOURCE -Iinclude -Isrc -Iengines -I. -MMD -MP $(WARN)
ifeq ($(BUILD),asan)
VAR_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined -DATX_DEBUG
VAR_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(BUILD),tsan)
VAR_CFLAGS := -O1 -fno-omit-frame-pointer -fsanitize=thread -DATX_DEBUG
VAR_LDFLAGS := -fsanitize=thread
else ifeq ($(BUILD),debug)
VAR_CFLAGS := -O0 -DATX_DEBUG
else
VAR_CFLAGS := -O2 -fno-semantic-interposition $(LTO_CFLAGS)
VAR_LDFLAGS := $(LTO_LDFLAGS)
endif
ALL_CFLAGS := $(BASE_CFLAGS) $(VAR_CFLAGS) $(CONFIG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS := $(VAR_LDFLAGS) $(LDFLAGS)
LIBS := $(CONFIG_LIBS) -luring -lcrypto -lisal -lpthread

LIB_SRCS := $(wildcard src/*.c) $(wildcard engines/soft/*.c) $(wildcard engines/virtio_crypto/*.c)
ifeq ($(HAVE_IPSEC_MB),1)
LIB_SRCS += $(wildcard engines/mb/*.c)
endif
TOOL_SRCS := $(wildcard tools/atx/*.c)
VCRYPTOD_SRCS := $(wildcard tools/vcryptod/*.c)
TEST_SRCS := $(wildcard tests/unit/test_*.c)
TESTLIB_SRCS := $(filter-out $(TEST_SRCS),$(wildcard tests/unit/*.c))

LIB_OBJS := $(patsubst %.c,$(O)/%.o,$(LIB_SRCS))
TOOL_OBJS := $(patsubst %.c,$(O)/%.o,$(TOOL_SRCS))
VCRYPTOD_OBJS := $(patsubst %.c,$(O)/%.o,$(VCRYPTOD_SRCS))
TESTLIB_OBJS := $(patsubst %.c,$(O)/%.o,$(TESTLIB_SRCS))
TESTS := $(patsubst tests/unit/%.c,$(O)/tests/%,$(TEST_SRCS))

STATIC := $(O)/libatx.a
SHARED := $(O)/$(SONAME)
MAP := $(O)/libatx.map
PROGS := $(strip $(if $(TOOL_SRCS),$(O)/atx) $(if $(VCRYPTOD_SRCS),$(O)/atx-vcryptod))

.PHONY: FORCE all lib tests check check-unit check-harness run bench install clean distclean
all: config.mk lib $(PROGS) $(O)/atx.pc $(O)/bench-scaling $(O)/bench-lines

lib: $(STATIC) $(SHARED)
# Unit tests may run the programs (test_virtio_engine starts
# BUILD/atx-vcryptod), so each variant builds them next to its tests.
tests: $(TESTS) $(PROGS)

# Run ./configure when config.mk is missing.  As root (a fresh Debian
# machine, CI) it runs with ATX_INSTALL_DEPS=1, which apt-get installs the
# missing packages, so `make run` and `make check` need no prior step; as a
# normal user it only reports what is missing and how to install it.
# When configure itself changes (a new probe), it is re-run with the
# arguments it was given last time (CONFIGURE_ARGS, kept in config.mk).
config.mk: configure
	$(Q)if [ "$$(id -u)" = 0 ]; then ATX_INSTALL_DEPS=1 ./configure $(CONFIGURE_ARGS); \
	else ./configure $(CONFIGURE_ARGS); fi

$(O)/%.o: %.c config.mk
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Exported symbols: every atx_ function declared in the public headers.
$(MAP): include/atx.h include/atx_engine.h
	@mkdir -p $(dir $@)
	$(Q){ echo "ATX_0.1 {"; echo "global:"; \
	  sed -n 's/^[a-z].*[ *]\(atx_[a-z0-9_]*\)(.*/\1;/p' $^ | sort -u; \
	  echo "local: *;"; echo "};"; } > $@

$(STATIC): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(SHARED): $(LIB_OBJS) $(MAP)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,-z,defs -Wl,-Bsymbolic-functions \
	  -Wl,--version-script=$(MAP) \
	  $(ALL_LDFLAGS) -o $@ $(LIB_OBJS) $(LIBS)
	$(Q)ln -sf $(SONAME) $(O)/libatx.so

$(O)/atx: $(TOOL_OBJS) $(STATIC)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(TOOL_OBJS) $(STATIC) $(LIBS) -lm

$(O)/atx-vcryptod: $(VCRYPTOD_OBJS) $(STATIC)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(VCRYPTOD_OBJS) $(STATIC) $(LIBS)

# The machine's own scaling of the hand loop (the ceiling for worker lanes).
$(O)/bench-scaling: $(O)/bench/scaling.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< -lcrypto -lisal -lpthread

# What a line costs its writer after another CPU touched it (worker-lane handoffs).
$(O)/bench-lines: $(O)/bench/lines.o
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< -lpthread

# The test objects are intermediates of the rule below; keep them, or make
# deletes and recompiles every test on every run.
.SECONDARY: $(patsubst %.c,$(O)/%.o,$(TEST_SRCS))
$(O)/tests/%: $(O)/tests/unit/%.o $(TESTLIB_OBJS) $(STATIC)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(TESTLIB_OBJS) $(STATIC) $(LIBS) -lcmocka -lm

# Rewritten on every run (only replaced when its text changes) because it
# records PREFIX, which `make install PREFIX=...` may change.
$(O)/atx.pc: FORCE
	@mkdir -p $(dir $@)
	$(Q)printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: atx\nDescription: asynchronous memory transforms with dependency chains\nVersion: %s\nLibs: -L$${libdir} -latx\nLibs.private: %s\nCflags: -I$${includedir}\n' \
	  "$(PREFIX)" "$(LIBVER)" "$(LIBS)" > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

# ---- tests ----
check: config.mk
	$(Q)./tests/check.sh

check-unit: config.mk tests
	$(Q)./tests/run-unit.sh $(O)

check-harness: config.mk all
	$(Q)ATX_BUILD=$(O) /usr/bin/python3 -m pytest -q tests/harness

# ---- the main job ----
run: config.mk all
	$(Q)./tools/run-demo.sh $(O)

bench: config.mk all
	$(Q)./bench/run.sh $(O)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 include/atx.h include/atx_engine.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libatx.so
	$(if $(PROGS),install -m 755 $(PROGS) $(DESTDIR)$(PREFIX)/bin/)
	install -m 644 $(O)/atx.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/

clean:
	rm -rf build

distclean: clean
	rm -f config.mk config.h config.log

-include $(shell find build -name '*.d' 2>/dev/null)
