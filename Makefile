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

# Each fuzz target for FUZZTIME executions (default 20000x; a duration such
# as 30s also works, see .ci/fuzz for why CI counts executions).
FUZZTIME ?= 20000x
fuzz:
	./.ci/fuzz $(FUZZTIME)
