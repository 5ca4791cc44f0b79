# syntax=docker/dockerfile:1
# Build: docker build -t skillreg .
# Run:   docker run -p 8080:8080 -v skillreg-data:/data \
#          -e SKILLREG_PUBLIC_URL=https://zs.example.gov.cn -e SKILLREG_ADMIN_PASSWORD=... skillreg
FROM golang:1.26-bookworm AS build
# Build with the Go release go.mod's toolchain line names (it carries
# security fixes of the standard library), fetched if the image's is older.
ENV GOTOOLCHAIN=auto
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary (pure-Go SQLite, no cgo; Mozilla's trusted CA roots are
# compiled in, so TLS to MongoDB verifies in the scratch stage, which has no
# /etc/ssl), a data directory owned by the unprivileged user, and a passwd
# entry so the user has a name. .ci/run and the cmd/skillreg tests build
# with this exact go build line.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/skillreg ./cmd/skillreg \
 && mkdir -p /out/data && chown 10001:10001 /out/data && chmod 700 /out/data \
 && echo 'skillreg:x:10001:10001:skillreg:/data:/sbin/nologin' > /out/passwd

FROM scratch
COPY --from=build /out/passwd /etc/passwd
COPY --from=build /out/skillreg /skillreg
COPY --from=build --chown=10001:10001 /out/data /data
USER 10001:10001
ENV SKILLREG_ADDR=0.0.0.0:8080 \
    SKILLREG_DATA=/data \
    TMPDIR=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/skillreg"]
CMD ["serve"]
