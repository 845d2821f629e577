# bk — build, test and install. Every lib/DOMAIN/*.c goes into lib/libbk.a; every cmd/NAME.c
# becomes bin/NAME; every tests/unit/*.c becomes a TAP unit test.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
VERSION = 0.1.0

CC ?= cc
PKGS = libpq libarchive zlib libcrypto libcurl libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ifeq ($(PKG_LIBS),)
PKG_CFLAGS := -I$(shell pg_config --includedir 2>/dev/null)
PKG_LIBS := -lpq -larchive -lz -lcrypto -lcurl -lmicrohttpd
endif
# ISA-L's igzip, when installed: lib/archive/gzwrite.c deflates with it about five
# times faster than with zlib (bench/README.md); without it, zlib alone.
ifeq ($(shell pkg-config --exists libisal 2>/dev/null && echo yes),yes)
PKG_CFLAGS += -DBK_HAVE_ISAL $(shell pkg-config --cflags libisal)
PKG_LIBS += $(shell pkg-config --libs libisal)
endif

WARN = -Wall -Wextra -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wvla -Wshadow
CFLAGS ?= -O2 -g
# lib/ is grouped by domain (core, pg, archive, deliver, ops); headers are
# included by name, so every group is on the quote path.
LIB_DIRS := $(sort $(dir $(wildcard lib/*/*.c)))
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -DBK_VERSION='"$(VERSION)"' $(WARN) $(addprefix -iquote ,$(LIB_DIRS:/=)) $(PKG_CFLAGS) $(CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lpthread
ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# Rebuild everything when the flags change (e.g. SANITIZE=1 after a plain build).
FLAGS_STAMP := .build-flags
$(shell echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' >$(FLAGS_STAMP))
# make may have cached the directory before the $(shell) above created the
# stamp: without a rule, a fresh tree fails with "No rule to make target".
$(FLAGS_STAMP): ;

ifneq ($(V),1)
Q = @
QCC = @echo "  CC    $@";
QLD = @echo "  LINK  $@";
QAR = @echo "  AR    $@";
endif

LIB_SRC := $(sort $(wildcard lib/*/*.c))
LIB_OBJ := $(LIB_SRC:.c=.o)
CMD_SRC := $(sort $(wildcard cmd/*.c))
PROGRAMS := $(patsubst cmd/%.c,bin/%,$(CMD_SRC))
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,tests/unit/bin/%,$(UNIT_SRC))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_REPLAY := $(patsubst tests/fuzz/fuzz-%.c,tests/fuzz/bin/replay-%,$(FUZZ_SRC))
# Test-only drivers of library code (never installed): tests/tools/NAME.c.
TOOL_SRC := $(sort $(wildcard tests/tools/*.c))
TOOL_BIN := $(patsubst tests/tools/%.c,tests/tools/bin/%,$(TOOL_SRC))

all: $(PROGRAMS)

lib/%.o: lib/%.c $(wildcard lib/*/*.h) $(FLAGS_STAMP)
	$(QCC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

lib/libbk.a: $(LIB_OBJ)
	$(QAR)rm -f $@.$$$$.tmp && $(AR) rcs $@.$$$$.tmp $^ && mv -f $@.$$$$.tmp $@

bin/%: cmd/%.c lib/libbk.a $(FLAGS_STAMP)
	@mkdir -p bin
	$(QLD)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< lib/libbk.a $(LDLIBS_ALL)

tests/unit/bin/%: tests/unit/%.c lib/libbk.a $(wildcard tests/unit/*.h) $(FLAGS_STAMP)
	@mkdir -p tests/unit/bin
	$(QLD)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< lib/libbk.a $(LDLIBS_ALL)

tests/fuzz/bin/replay-%: tests/fuzz/fuzz-%.c tests/fuzz/driver.c lib/libbk.a $(FLAGS_STAMP)
	@mkdir -p tests/fuzz/bin
	$(QLD)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/driver.c lib/libbk.a $(LDLIBS_ALL)

tests/tools/bin/%: tests/tools/%.c lib/libbk.a $(FLAGS_STAMP)
	@mkdir -p tests/tools/bin
	$(QLD)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< lib/libbk.a $(LDLIBS_ALL)

deps:
	@tools/install-deps

check: deps
	$(MAKE) all units
	prove -f tests/unit/bin/* tests/t[0-9]*.sh

units: $(UNIT_BIN) $(FUZZ_REPLAY) $(TOOL_BIN)

# The backup image built and run with podman (tests/t0900-container.sh).
check-container: deps
	tools/check-container

demo: deps all
	tools/demo

bench: deps all
	bench/run

fuzz:
	tools/fuzz

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(BINDIR)
	install -m 0644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(wildcard man/*.7) $(DESTDIR)$(MANDIR)/man7

clean:
	rm -rf bin lib/*/*.o lib/libbk.a tests/unit/bin tests/fuzz/bin tests/tools/bin $(FLAGS_STAMP)

.PHONY: all deps check check-container units demo bench fuzz install clean
