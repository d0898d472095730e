# vibewatch — top-level Makefile.
#   make                 build ./vibewatch with FFTW (fftw3f)
#   make FFT=kiss        build with KissFFT (kissfft-float)
#   make SANITIZE=1      AddressSanitizer + UndefinedBehaviorSanitizer
#   make WERROR=1        warnings are errors (CI)
#   make WITH_IIO=0      without libiio (the iio: scheme reports itself unavailable); WITH_ALSA=0 alike
#   make ARCH=arm64      cross-build for 64-bit ARM (ARCH=armhf: 32-bit, Cortex-A7 boards) into build/arm64-fftw, …,
#                        against a sysroot of Debian's ARCH packages (build/sysroot-ARCH, deploy/cross/sysroot.sh);
#                        `make ARCH=arm64 test` runs the unit tests under qemu-aarch64-static (qemu-arm-static)
#   make test            install what is missing, build, run every test; ends "N passed, N failed"
#   make run             install what is missing, build, run vibewatch on its embedded default
#   make bench           speed and memory, printed as a table
#   make dashboard       build the web dashboard into build/dashboard (npm ci in web/dashboard once)
#   make install         PREFIX=/usr DESTDIR=…: binary, dashboard, man page, systemd unit, config
#   make deps            install the Debian packages the build and the tests need
#   make V=1             show the compiler command lines
# Each configuration builds into its own folder (build/fftw, build/kiss-san, …), so switching
# between them never needs a `make clean`.

FFT      ?= fftw
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
SANITIZE ?= 0
WITH_IIO ?= 1
WITH_ALSA ?= 1
WERROR   ?= 0
PKG_CONFIG ?= pkg-config
# the machine the build runs on, and the one the binary is for
HOST_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo unknown)
ARCH     ?= $(HOST_ARCH)
ifeq ($(strip $(ARCH)),)
  override ARCH := $(HOST_ARCH)
endif

ifeq ($(FFT),fftw)
  FFT_PKG := fftw3f
else ifeq ($(FFT),kiss)
  FFT_PKG := kissfft-float
else
  $(error FFT must be fftw or kiss, not "$(FFT)")
endif

# Cross-building (ARCH other than this machine's): the cross compiler of Debian's
# gcc-TRIPLET package, and a sysroot of Debian's ARCH packages, built by deploy/cross/sysroot.sh
# (no foreign architecture on the host's dpkg). pkg-config reads the sysroot's .pc files only.
ifeq ($(ARCH),$(HOST_ARCH))
  CROSS :=
else ifeq ($(ARCH),arm64)
  CROSS := aarch64-linux-gnu
  QEMU  := qemu-aarch64-static
else ifeq ($(ARCH),armhf)
  CROSS := arm-linux-gnueabihf
  QEMU  := qemu-arm-static
else
  $(error ARCH must be $(HOST_ARCH) (this machine), arm64 or armhf, not "$(ARCH)")
endif
ifneq ($(CROSS),)
  ifeq ($(SANITIZE),1)
    $(error SANITIZE=1 is for native builds: LeakSanitizer fails under qemu-user (ARCH=$(ARCH)))
  endif
  ifneq ($(filter run bench,$(MAKECMDGOALS)),)
    $(error `make run` and `make bench` run the binary: native builds only (ARCH=$(ARCH); `make ARCH=$(ARCH) test` runs the unit tests under qemu))
  endif
  SYSROOT       ?= build/sysroot-$(ARCH)
  SYSROOT_ABS   := $(abspath $(SYSROOT))
  SYSROOT_STAMP := $(SYSROOT)/.stamp
  ifeq ($(origin CC),default)
    CC := $(CROSS)-gcc
  endif
  ifeq ($(origin AR),default)
    AR := $(CROSS)-ar
  endif
  CROSS_FLAGS := --sysroot=$(SYSROOT_ABS)
  override PKG_CONFIG := env -u PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR=$(SYSROOT_ABS) \
      PKG_CONFIG_LIBDIR=$(SYSROOT_ABS)/usr/lib/$(CROSS)/pkgconfig:$(SYSROOT_ABS)/usr/share/pkgconfig $(PKG_CONFIG)
endif

BUILD := build/$(if $(CROSS),$(ARCH)-)$(FFT)$(if $(filter 1,$(SANITIZE)),-san)$(if $(filter 0,$(WITH_IIO)),-noiio)$(if $(filter 0,$(WITH_ALSA)),-noalsa)
PKGS  := $(FFT_PKG) libcjson sqlite3 libmicrohttpd libsystemd libcurl zlib $(if $(filter 1,$(WITH_IIO)),libiio) $(if $(filter 1,$(WITH_ALSA)),alsa)

# the dashboard's files (web/dashboard, built by `make dashboard`); `make install` sets its own
DASHBOARD_DIR ?= $(CURDIR)/build/dashboard
# 64-bit off_t, ino_t and time_t on 32-bit ARM as on 64-bit machines (no-ops there): without
# them readdir/stat fail with EOVERFLOW on large inode numbers and files, and times past 2038 break
CFLAGS_BASE := -std=c11 -D_DEFAULT_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 -O2 -g -Wall -Wextra \
               -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla -fno-strict-aliasing -I. -MMD -MP \
               -DVW_DASHBOARD_DIR='"$(DASHBOARD_DIR)"'
ifeq ($(WERROR),1)
  CFLAGS_BASE += -Werror
endif
ifeq ($(SANITIZE),1)
  SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
  # the hardening Debian builds its packages with: fortified libc calls, the stack protector, full
  # RELRO (the sanitizer builds check more, and FORTIFY would only get in ASan's way)
  HARDEN_CFLAGS := -D_FORTIFY_SOURCE=2 -fstack-protector-strong
  HARDEN_LDFLAGS := -Wl,-z,relro,-z,now
endif

# recursively expanded: for a cross ARCH, evaluated only once the sysroot exists (every object
# waits for $(SYSROOT_STAMP))
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

ALL_CFLAGS = $(CROSS_FLAGS) $(CFLAGS_BASE) $(SAN_FLAGS) $(HARDEN_CFLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDLIBS = $(PKG_LIBS) -lcrypt -lm -lpthread $(LDLIBS)
ALL_LDFLAGS = $(CROSS_FLAGS) $(SAN_FLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS)

MODULES := common acquisition dsp models alerts store web daemon
# build-time choices: one file of each pair is compiled
CHOICE_SRC := dsp/fft_fftw.c dsp/fft_kiss.c acquisition/src_iio.c acquisition/src_iio_off.c \
              acquisition/src_alsa.c acquisition/src_alsa_off.c
LIB_SRC := $(filter-out $(CHOICE_SRC) daemon/main.c,$(wildcard $(addsuffix /*.c,$(MODULES)))) \
           dsp/fft_$(FFT).c acquisition/src_iio$(if $(filter 0,$(WITH_IIO)),_off).c \
           acquisition/src_alsa$(if $(filter 0,$(WITH_ALSA)),_off).c
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
LIB     := $(BUILD)/libvibewatch.a

UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_HELP := tests/unit/testlib.c
# FFTW vs KissFFT: links both, so it exists only where the library is built with FFTW.
ifeq ($(FFT),fftw)
  UNIT_BIN += $(BUILD)/tests/test_fft_backends
endif
BENCH_BIN := $(BUILD)/bench/bench_analyze
BENCH_ACQ := $(BUILD)/bench/bench_acq
BENCH_HIST := $(BUILD)/bench/bench_history
BENCH_MODELS := $(BUILD)/bench/bench_models
BENCH_STREAM := $(BUILD)/bench/bench_stream
BENCH_ALERTS := $(BUILD)/bench/bench_alerts
BENCH_HREAD := $(BUILD)/bench/bench_history_read

# the dashboard: web/dashboard/src → build/dashboard (uPlot and esbuild from npm, installed from
# the committed lock file; nothing is fetched when the box runs)
DASH     := build/dashboard
DASH_NPM := web/dashboard/node_modules/.package-lock.json
DASH_SRC := $(wildcard web/dashboard/src/*) web/dashboard/build.sh web/dashboard/check_i18n.mjs

# `make install PREFIX=/usr DESTDIR=…`: where things go (the paths a Debian system expects with
# PREFIX=/usr; the configuration is always under SYSCONFDIR, the history under LOCALSTATEDIR)
PREFIX        ?= /usr/local
SYSCONFDIR    ?= /etc
LOCALSTATEDIR ?= /var/lib
UNITDIR       ?= $(PREFIX)/lib/systemd/system
UDEVDIR       ?= $(PREFIX)/lib/udev/rules.d

.PHONY: all deps test run bench clean check-deps dashboard install
all: $(BUILD)/vibewatch $(if $(CROSS),,vibewatch)

# ./vibewatch always points at the binary of the last (native) configuration built.
vibewatch: $(BUILD)/vibewatch
	@ln -sf $< $@

$(BUILD)/vibewatch: $(BUILD)/daemon/main.o $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

$(BUILD)/%.o: %.c | $(SYSROOT_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/test_%: tests/unit/test_%.c $(UNIT_HELP) $(LIB)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(UNIT_HELP) $(LIB) $(ALL_LDLIBS)

$(BUILD)/tests/test_fft_backends: tests/fft_backends/test_fft_backends.c dsp/fft_kiss.c $(UNIT_HELP) $(LIB)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(UNIT_HELP) $(LIB) \
	    $(shell $(PKG_CONFIG) --cflags --libs kissfft-float fftw3f) $(ALL_LDLIBS)

# every benchmark: bench/bench_NAME.c → $(BUILD)/bench/bench_NAME, linked against the library
$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(ALL_LDLIBS)

ifneq ($(CROSS),)
# the sysroot, before anything compiles (an up-to-date sysroot makes the script return at once)
$(SYSROOT_STAMP): deploy/cross/sysroot.sh
	@command -v $(CC) >/dev/null 2>&1 || { echo "make: no $(CC) for ARCH=$(ARCH): \`make ARCH=$(ARCH) deps\` installs it" >&2; exit 1; }
	$(Q)sh deploy/cross/sysroot.sh $(ARCH) $(SYSROOT)
endif

dashboard: $(DASH)/index.html

$(DASH)/index.html: $(DASH_SRC) $(DASH_NPM)
	@echo "  DASH    $(DASH)"
	$(Q)sh web/dashboard/build.sh $(DASH)

$(DASH_NPM): web/dashboard/package-lock.json
	@echo "  NPM     web/dashboard"
	$(Q)cd web/dashboard && npm ci --no-audit --no-fund --loglevel=error

# The binary, the dashboard, the man page, the systemd unit and udev rule, the state folder, and a
# default configuration (0640, never overwritten: an administrator's file stays). Installs the
# binary of the configuration built last (FFT=, SANITIZE= as given). Run as root without DESTDIR,
# the configuration's group becomes vibewatch when that group exists (README: Install).
install: $(BUILD)/vibewatch $(DASH)/index.html
	install -D -m 0755 $(BUILD)/vibewatch $(DESTDIR)$(PREFIX)/bin/vibewatch
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/vibewatch/dashboard
	install -m 0644 $(DASH)/* $(DESTDIR)$(PREFIX)/share/vibewatch/dashboard/
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/man/man1
	gzip -9 -n -c deploy/vibewatch.1 > $(DESTDIR)$(PREFIX)/share/man/man1/vibewatch.1.gz
	chmod 0644 $(DESTDIR)$(PREFIX)/share/man/man1/vibewatch.1.gz
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(UDEVDIR)
	sed -e 's|/usr/bin/vibewatch|$(PREFIX)/bin/vibewatch|' -e 's|/etc/vibewatch|$(SYSCONFDIR)/vibewatch|g' \
	    -e 's|/var/lib/vibewatch|$(LOCALSTATEDIR)/vibewatch|g' deploy/systemd/vibewatch.service \
	    > $(DESTDIR)$(UNITDIR)/vibewatch.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vibewatch.service
	install -m 0644 deploy/systemd/60-vibewatch.rules $(DESTDIR)$(UDEVDIR)/60-vibewatch.rules
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/vibewatch
	@if [ -e $(DESTDIR)$(SYSCONFDIR)/vibewatch/vibewatch.json ]; then \
	    echo "  KEEP    $(DESTDIR)$(SYSCONFDIR)/vibewatch/vibewatch.json (not overwritten; the new default is deploy/vibewatch.json)"; \
	else \
	    sed 's|"/var/lib/vibewatch"|"$(LOCALSTATEDIR)/vibewatch"|' deploy/vibewatch.json > $(DESTDIR)$(SYSCONFDIR)/vibewatch/vibewatch.json && \
	    chmod 0640 $(DESTDIR)$(SYSCONFDIR)/vibewatch/vibewatch.json; \
	fi
	@if [ -z "$(DESTDIR)" ] && getent group vibewatch >/dev/null 2>&1; then \
	    chgrp vibewatch $(SYSCONFDIR)/vibewatch/vibewatch.json; fi
	install -d -m 0750 $(DESTDIR)$(LOCALSTATEDIR)/vibewatch

deps:
ifeq ($(CROSS),)
	@sh deploy/install-deps.sh
else
	@sh deploy/cross/deps.sh $(ARCH)
endif

# For a cross ARCH: the unit tests alone, each under qemu with the sysroot as its root for the
# dynamic loader and libraries (tests/cli/ needs the native binary, the servers and the browser).
test: deps
ifeq ($(CROSS),)
	@$(MAKE) --no-print-directory all dashboard $(UNIT_BIN)
	@VW_BUILD=$(BUILD) sh tests/run.sh
else
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@VW_BUILD=$(BUILD) VW_UNIT_ONLY=1 VW_RUNNER="$(QEMU) -L $(SYSROOT_ABS)" sh tests/run.sh
endif

run: deps
	@$(MAKE) --no-print-directory all dashboard
	@echo "vibewatch: a simulated pump whose outer race starts to fail (weeks pass in minutes);"
	@echo "  history in ./vibewatch-data, the dashboard on http://127.0.0.1:8080/; Ctrl-C stops."
	@$(BUILD)/vibewatch run

bench: deps
	@$(MAKE) --no-print-directory all dashboard $(BENCH_BIN) $(BENCH_ACQ) $(BENCH_HIST) $(BENCH_MODELS) $(BENCH_STREAM) $(BENCH_ALERTS) $(BENCH_HREAD)
	@$(BENCH_BIN) $${VW_DATA:-../shared/data}/cwru
	@echo
	@sh bench/bench_acq.sh $(BUILD) $${VW_BENCH_SECONDS:-5}
	@echo
	@$(BENCH_HIST)
	@echo
	@$(BENCH_MODELS)
	@echo
	@sh bench/bench_run.sh $(BUILD)/vibewatch $${VW_BENCH_RUN_SECONDS:-40}
	@echo
	@sh bench/bench_stream.sh $(BUILD)
	@echo
	@$(BENCH_ALERTS)
	@echo
	@$(BENCH_HREAD)
	@echo
	@sh bench/bench_web.sh $(BUILD)
	@echo
	@sh bench/bench_alerts.sh $(BUILD)

clean:
	rm -rf build vibewatch tests/out

# `make deb [ARCH=arm64|armhf] [VERSION=…]`: the Debian package of the release build (FFTW, no
# sanitizer, with IIO and ALSA) and the dashboard, into $(DEB_DIR)/vibewatch_VERSION_ARCH.deb;
# VERSION= overrides daemon/version.h's (for tests). deploy/debian/mkdeb.sh makes the package from
# a `make install PREFIX=/usr` staging root (README: Install and run as a service).
DEB_DIR  ?= build/deb
DEB_ARCH  = $(or $(ARCH),$(shell dpkg --print-architecture))
DEB_ROOT  = $(or $(DEB_DIR),build/deb)/root-$(DEB_ARCH)
ifneq ($(filter deb-package,$(MAKECMDGOALS)),)
  ifneq ($(FFT)-$(SANITIZE)-$(WITH_IIO)-$(WITH_ALSA),fftw-0-1-1)
    $(error deb-package packages the release build only (FFTW, no sanitizer, IIO, ALSA): run `make deb`)
  endif
endif
.PHONY: deb deb-package
deb:
	@$(MAKE) --no-print-directory FFT=fftw SANITIZE=0 WITH_IIO=1 WITH_ALSA=1 deb-package
deb-package: $(BUILD)/vibewatch $(DASH)/index.html
	@rm -rf $(DEB_ROOT)
	@$(MAKE) --no-print-directory -s install PREFIX=/usr DESTDIR=$(DEB_ROOT) >/dev/null
	@deb=$$(sh deploy/debian/mkdeb.sh --root $(DEB_ROOT) --out $(or $(DEB_DIR),build/deb) --arch $(DEB_ARCH) \
	    $(if $(VERSION),--version '$(VERSION)') $(if $(CROSS),--shlibs $(SYSROOT)/.debs)) && echo "  DEB     $$deb"

-include $(LIB_OBJ:.o=.d) $(BUILD)/daemon/main.d $(UNIT_BIN:=.d) $(BENCH_BIN).d $(BENCH_ACQ).d $(BENCH_HIST).d $(BENCH_MODELS).d $(BENCH_STREAM).d $(BENCH_ALERTS).d $(BENCH_HREAD).d
