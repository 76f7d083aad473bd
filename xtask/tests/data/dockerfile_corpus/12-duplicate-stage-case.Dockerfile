# disagree: DF-DUPLICATE-STAGE 4 ours: BuildKit compares stage names ignoring case; hadolint does not
FROM python:3.11-slim AS Build
RUN echo one > /one
FROM python:3.11-slim AS build
FROM python:3.11-slim
COPY --from=build /one /one
USER app
