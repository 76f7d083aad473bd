# disagree: DF-PIP-NO-CACHE 3 hadolint: a cache mount at /root/.cache holds pip's cache (~/.cache/pip)
FROM python:3.11-slim
RUN --mount=type=cache,target=/root/.cache pip install requests
USER app
