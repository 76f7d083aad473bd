FROM python:3.11-slim
RUN pip install requests # --no-cache-dir
USER app
