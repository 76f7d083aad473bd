FROM python:3.11-slim
RUN apt-get update \
 && pip install \
      requests \
 && rm -rf /var/lib/apt/lists/*
USER app
