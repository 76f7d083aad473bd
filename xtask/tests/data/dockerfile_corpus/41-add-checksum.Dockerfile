FROM python:3.11-slim
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://github.com/moby/buildkit/archive/refs/tags/v0.17.0.tar.gz /tmp/
USER app
