# A thin wrapper around CMake: `make run` and `make test` are the two
# commands of the README. Everything else is a helper for them.
BUILD      ?= build
TEST_BUILD ?= build-asan
O2_BUILD   ?= build-o2
FUZZ_BUILD ?= build-fuzz
CONF       ?= conf/whistled-dev.conf
GW_CONF    ?= conf/whistle-gateway-dev.conf
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build run test unit integration fuzz pki bench clean install deb

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWHISTLE_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# `make install` puts everything under PREFIX (default /usr/local; the
# Debian package uses /usr), with DESTDIR in front when set, for staging:
#   make install PREFIX=/usr DESTDIR=/tmp/stage
# An existing $(DESTDIR)/etc/whistle/whistled.conf is kept.
PREFIX     ?= /usr/local
INSTALL_BUILD ?= build-install
install: deps
	@cmake -S . -B $(INSTALL_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWHISTLE_TESTS=OFF \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(INSTALL_BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(INSTALL_BUILD)

# `make deb`: the Debian packages (whistled, whistle, libwhistle0,
# libwhistle-dev), built the Debian way (debian/, dpkg-buildpackage -b) from
# a copy of the tree in $(DEB_BUILD), where the .deb files land; lintian
# then checks them.
DEB_BUILD ?= build-deb
deb: deps
	@scripts/build-deb.sh $(DEB_BUILD)

pki: deps
	@scripts/dev-pki.sh var/pki

# Builds, makes the dev PKI on first use, and runs whistled in the
# foreground on the demo city (seeded into var/state on first start), with
# whistle-gateway beside it (Open311 on https://127.0.0.1:7780/open311/v2/).
run: build pki
	@scripts/archive-key.sh var/archive.key
	@scripts/run-dev.sh $(BUILD) $(CONF) $(GW_CONF)

# The whole suite, under AddressSanitizer + UndefinedBehaviorSanitizer;
# then again optimised as a packager builds it (-O2: the optimiser's
# warnings are errors too, and code that works only at -O0 shows); then
# short fuzz runs.
test: deps
	@cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWHISTLE_SANITIZE=ON >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(TEST_BUILD) --output-on-failure -j $(JOBS)
	@cmake -S . -B $(O2_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(O2_BUILD) -j $(JOBS)
	ctest --test-dir $(O2_BUILD) --output-on-failure -j $(JOBS)
	@scripts/fuzz.sh short

# whistled side by side with Redis (scripts/bench-vs-redis.sh; numbers, not
# tests): installs Redis if missing, builds optimised, runs for a few
# minutes. docs/performance.md records the figures.
bench: deps
	@scripts/bench-deps.sh
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWHISTLE_TESTS=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	BUILD=$(BUILD) scripts/bench-vs-redis.sh

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(O2_BUILD) $(FUZZ_BUILD)
