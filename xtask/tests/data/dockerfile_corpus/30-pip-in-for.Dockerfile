FROM python:3.11-slim
RUN for pkg in requests influxdb; do pip install "$pkg"; done
USER app
