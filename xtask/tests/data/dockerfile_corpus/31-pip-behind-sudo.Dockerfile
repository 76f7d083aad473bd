# disagree: DF-PIP-NO-CACHE 4 ours: hadolint does not see the pip behind `sudo -H`
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends sudo && rm -rf /var/lib/apt/lists/*
RUN sudo -H pip install requests
USER app
