# disagree: DF-FROM-TAG 3 ours: hadolint skips any --from with a `:`, so `python:latest` passes it
FROM python:3.11-slim
COPY --from=python:latest /usr/local/bin/python3 /usr/local/bin/
USER app
