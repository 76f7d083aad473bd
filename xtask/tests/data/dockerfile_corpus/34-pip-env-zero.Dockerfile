# disagree: DF-PIP-NO-CACHE 4 hadolint: pip disables its cache for any boolean PIP_NO_CACHE_DIR, 0 included
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=0
RUN pip install requests
USER app
