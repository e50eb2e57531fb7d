# syntax=docker/dockerfile:1
# Billkey as a static, non-root image:
#   docker build -t billkey --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) .
# compose.yaml runs it on PostgreSQL with the master key from a secret.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev COMMIT=unknown DATE=unknown TARGETOS TARGETARCH
RUN VERSION=$VERSION COMMIT=$COMMIT DATE=$DATE GOOS=$TARGETOS GOARCH=$TARGETARCH \
    scripts/build.sh /out/billkey

# distroless/static: no shell, no libc; CA certificates for HTTPS webhooks and
# PGs; runs as uid 65532 (nonroot).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/billkey /usr/local/bin/billkey
COPY LICENSE NOTICE /usr/share/doc/billkey/
USER nonroot:nonroot
WORKDIR /home/nonroot
EXPOSE 8080 9090
ENV BILLKEY_ADDR=0.0.0.0:8080
ENTRYPOINT ["/usr/local/bin/billkey"]
CMD ["serve"]
