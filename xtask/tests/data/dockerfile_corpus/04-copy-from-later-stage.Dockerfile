FROM python:3.11-slim
COPY --from=assets /static /app/static
USER app
FROM node:22-slim AS assets
RUN mkdir /static
