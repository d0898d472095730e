# vibewatch — top-level Makefile.
#   make                 build ./vibewatch with FFTW (fftw3f)
#   make FFT=kiss        build with KissFFT (kissfft-float)
#   make SANITIZE=1      AddressSanitizer + UndefinedBehaviorSanitizer
#   make WERROR=1        warnings are errors (CI)
#   make WITH_IIO=0      without libiio (the iio: scheme reports itself unavailable); WITH_ALSA=0 alike
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

ifeq ($(FFT),fftw)
  FFT_PKG := fftw3f
else ifeq ($(FFT),kiss)
  FFT_PKG := kissfft-float
else
  $(error FFT must be fftw or kiss, not "$(FFT)")
endif

BUILD := build/$(FFT)$(if $(filter 1,$(SANITIZE)),-san)$(if $(filter 0,$(WITH_IIO)),-noiio)$(if $(filter 0,$(WITH_ALSA)),-noalsa)
PKGS  := $(FFT_PKG) libcjson sqlite3 libmicrohttpd libsystemd libcurl zlib $(if $(filter 1,$(WITH_IIO)),libiio) $(if $(filter 1,$(WITH_ALSA)),alsa)

# the dashboard's files (web/dashboard, built by `make dashboard`); `make install` sets its own
DASHBOARD_DIR ?= $(CURDIR)/build/dashboard
CFLAGS_BASE := -std=c11 -D_DEFAULT_SOURCE -O2 -g -Wall -Wextra -Wshadow -Wstrict-prototypes \
               -Wformat=2 -Wvla -fno-strict-aliasing -I. -MMD -MP -DVW_DASHBOARD_DIR='"$(DASHBOARD_DIR)"'
ifeq ($(WERROR),1)
  CFLAGS_BASE += -Werror
endif
ifeq ($(SANITIZE),1)
  SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

ALL_CFLAGS = $(CFLAGS_BASE) $(SAN_FLAGS) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDLIBS = $(PKG_LIBS) -lcrypt -lm -lpthread $(LDLIBS)
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS)

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
all: $(BUILD)/vibewatch vibewatch

# ./vibewatch always points at the binary of the last configuration built.
vibewatch: $(BUILD)/vibewatch
	@ln -sf $< $@

$(BUILD)/vibewatch: $(BUILD)/daemon/main.o $(LIB)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

$(LIB): $(LIB_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	$(Q)$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
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
	@sh deploy/install-deps.sh

test: deps
	@$(MAKE) --no-print-directory all dashboard $(UNIT_BIN)
	@VW_BUILD=$(BUILD) sh tests/run.sh

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

-include $(LIB_OBJ:.o=.d) $(BUILD)/daemon/main.d $(UNIT_BIN:=.d) $(BENCH_BIN).d $(BENCH_ACQ).d $(BENCH_HIST).d $(BENCH_MODELS).d $(BENCH_STREAM).d $(BENCH_ALERTS).d $(BENCH_HREAD).d
