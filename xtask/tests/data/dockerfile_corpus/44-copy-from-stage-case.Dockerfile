# disagree: DF-COPY-FROM-STAGE 4 hadolint: BuildKit finds stage `Build` by `build` (names ignore case)
FROM python:3.11-slim AS Build
FROM python:3.11-slim
COPY --from=build /usr/local /usr/local
USER app
