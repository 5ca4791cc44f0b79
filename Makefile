# The same test command the README gives and .ci/run runs.
.PHONY: test vet fmt fuzz build

test:
	go test ./...

vet:
	go vet ./...

fmt:
	gofmt -l -w .

build:
	CGO_ENABLED=0 go build -o bin/skillreg ./cmd/skillreg

# Each fuzz target for FUZZTIME (default 10s).
FUZZTIME ?= 10s
fuzz:
	./.ci/fuzz $(FUZZTIME)
