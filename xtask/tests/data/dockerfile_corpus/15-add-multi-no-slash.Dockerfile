# disagree: DF-COPY-DEST 3 ours: BuildKit fails ADD like COPY; hadolint's DL3021 checks COPY only
FROM python:3.11-slim
ADD app.py requirements.txt /app
USER app
