FROM python:3.11-slim
COPY requirements.txt /tmp/
RUN if [ -s /tmp/requirements.txt ]; then pip install -r /tmp/requirements.txt; fi
USER app
