FROM python:3.11-slim AS build
FROM python:3.11-slim
COPY --from=2 /usr/local /usr/local
USER app
