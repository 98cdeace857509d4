# Spare — see README.md. `make run` and `make test` are the whole set-up on a
# fresh Debian/Ubuntu machine: each installs what it needs first.
GO        ?= go
BIN       := bin/spare
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# Position-independent, as distributions require (start-up cost measured
# in packaging/README.md).
BUILDMODE := -buildmode=pie
# The licence and notices of every library in the binary, embedded in it.
NOTICES   := cmd/spare/licenses/NOTICES.gz
WORKLOADS ?= workloads/out
# Packages without the desktop UI: they must build for every OS. (The
# workloads are Linux job images; internal/screentext is cmd/spare's
# screen-test support and uses Fyne's test driver.)
CORE_PKGS  = $(shell $(GO) list ./... | grep -v -e /app -e /cmd/spare -e /workloads -e /internal/screentext)

export SPARE_WORKLOADS := $(abspath $(WORKLOADS))
# Fyne's colour emoji font (4 MB) is parsed once per text style, some
# 20 MB of the app's memory; Spare shows no emoji. Tests and packages
# built through make inherit the tag.
export GOFLAGS ?= -tags=no_emoji
# go-nvml's header warns about deprecated declarations it still uses.
export CGO_CFLAGS ?= -O2 -g -Wno-deprecated-declarations

.PHONY: all build deps deps-test run test cross windows wsl-image windows-installer bench lint workloads contracts package clean
all: build

build: $(NOTICES)
	$(GO) build -trimpath $(BUILDMODE) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/spare

# go-licenses takes minutes; notices.sh caches its result by the modules
# cmd/spare uses, so it runs every time (a second when cached) and the
# file changes only when the list does. LC_ALL=C: its sort order is part
# of the binary (reproducible builds, packaging/README.md).
$(NOTICES): FORCE
	@mkdir -p bin/licenses
	@LC_ALL=C packaging/licenses/notices.sh bin/licenses
	@gzip -9n <bin/licenses/NOTICES >$@.tmp && { cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@; }
FORCE:

deps:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

# The reference job images (probe, render, ocr), assembled offline from
# Debian and npm packages and cached in $(WORKLOADS).
workloads: build
	bash workloads/build.sh $(WORKLOADS)

# The local playground (`spare demo`): a provider and a requester on
# loopback in a private containerd, paying for the reference render and OCR
# jobs. With a display the desktop app opens on the provider; without one
# a few jobs run and a report of jobs and money is printed.
run: deps workloads
	scripts/with-services.sh sh -c 'exec $(BIN) --containerd "$$SPARE_TEST_CONTAINERD" demo $(if $(DISPLAY)$(WAYLAND_DISPLAY),,--headless) --workloads $(WORKLOADS)'

test: deps-test workloads cross windows
	$(GO) vet ./...
	scripts/with-services.sh $(GO) test -count=1 -timeout 60m ./...

# The non-GUI packages must keep building on Windows and macOS.
cross:
	GOOS=windows GOARCH=amd64 $(GO) build $(CORE_PKGS)
	GOOS=darwin GOARCH=arm64 $(GO) build $(CORE_PKGS)
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./cmd/spare
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./cmd/spare

# The Windows app: spare.exe cross-built with cgo (MinGW-w64) for the
# Fyne window; its Wine test (cmd/spare) runs this one. The first build
# compiles the GL bindings' C (minutes); Go's build cache keeps it.
WINDOWS_APP := bin/spare.exe
export SPARE_WINDOWS_APP := $(abspath $(WINDOWS_APP))
# Stripped (-s -w: no symbol table, no DWARF); panics still name their
# functions. Size before and after: packaging/README.md, "Windows".
windows: $(NOTICES)
	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc $(GO) build -trimpath -ldflags "$(LDFLAGS) -s -w -H windowsgui" -o $(WINDOWS_APP) ./cmd/spare

# The root filesystem of Spare's WSL distribution (Debian with containerd,
# runc and the .deb of bin/spare; see packaging/README.md, "Windows"),
# which the installer bundles and the app imports. Needs root; cached by
# its inputs.
WSL_IMAGE := bin/spare-wsl.tar.gz
wsl-image: build
	deb=$$(SPARE_FORMATS=deb packaging/build.sh bin) && packaging/windows/build-rootfs.sh "$$deb" $(WSL_IMAGE)

# The Windows installer (NSIS): the app, the distribution's image, the
# licence and the notices. Sign it with packaging/windows/sign.sh.
windows-installer: windows wsl-image
	VERSION=$(VERSION) packaging/windows/build-installer.sh $(WINDOWS_APP) bin/spare-setup.exe $(WSL_IMAGE)

bench: deps-test workloads
	scripts/with-services.sh scripts/bench.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

# Regenerate the escrow contract's ABI, bytecode and Go bindings (needs
# node and npm; solc comes from npm, pinned). The results are committed.
contracts:
	wallet/contracts/gen.sh

# .deb and .rpm of bin/spare (see packaging/README.md), written into bin/.
package: build
	packaging/build.sh bin

clean:
	rm -rf bin $(WORKLOADS) $(NOTICES)
