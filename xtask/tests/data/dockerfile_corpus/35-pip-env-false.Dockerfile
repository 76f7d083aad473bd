# disagree: DF-PIP-NO-CACHE 4 hadolint: `false` disables pip's cache too (see 34)
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=false
RUN pip install requests
USER app
