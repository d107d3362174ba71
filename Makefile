# The two commands of the README. `make run` runs the main job; `make test` runs every test.
# Both install the Debian packages they need first (only when missing).
SWIFT_JOBS ?= 2
# How long `make test` fuzzes the wire codec (Tests/Fuzz/fuzz.sh).
FUZZ_SECONDS ?= 60

.PHONY: run test deps build dist test-dist

deps:
	@bash .ci/install-deps

build: deps
	swift build -c release --product smaller -j $(SWIFT_JOBS)

run: build
	.build/release/smaller run jobs/quickstart.yaml

test:
	@bash .ci/install-deps --test
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT_JOBS=$(SWIFT_JOBS) bash Tests/Fuzz/fuzz.sh
	swift test -j $(SWIFT_JOBS)

# The self-contained release binary, its debug symbols and dist/smaller_<version>_amd64.deb (.ci/dist).
dist:
	@bash .ci/install-deps --dist
	SWIFT_JOBS=$(SWIFT_JOBS) bash .ci/dist

# The .deb installed on a plain Debian root without Swift, a worker there running a grid (DistInstallTests;
# root). Opt-in: it needs the release build of `make dist` (README, "Workers on other machines").
test-dist: dist
	@bash .ci/install-deps --test
	SMALLER_DEB="$$(ls dist/smaller_*_amd64.deb)" swift test -j $(SWIFT_JOBS) --filter DistInstallTests
