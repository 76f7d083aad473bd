FROM python:3.11-slim AS builder
RUN pip install --no-cache-dir build
FROM python:3.11-slim
COPY --from=buidler /usr/local /usr/local
USER app
