# syntax=docker/dockerfile:1
# Build: docker build -t skillreg .
# Run:   docker run -p 8080:8080 -v skillreg-data:/data -e SKILLREG_PUBLIC_URL=https://zs.example.gov.cn skillreg
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/skillreg ./cmd/skillreg \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/skillreg /usr/local/bin/skillreg
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV SKILLREG_ADDR=0.0.0.0:8080 \
    SKILLREG_DATA=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/skillreg"]
CMD ["serve"]
