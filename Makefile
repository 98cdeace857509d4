# Spare — see README.md. `make run` and `make test` are the whole set-up on a
# fresh Debian/Ubuntu machine: each installs what it needs first.
GO      ?= go
BIN     := bin/spare
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: build
build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/spare
