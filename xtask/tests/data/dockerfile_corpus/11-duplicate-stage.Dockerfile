FROM python:3.11-slim AS build
RUN echo one > /one
FROM python:3.11-slim AS build
RUN echo two > /two
FROM python:3.11-slim
COPY --from=build /two /two
USER app
