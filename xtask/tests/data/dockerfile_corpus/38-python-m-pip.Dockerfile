FROM python:3.11-slim
RUN python3 -m pip install --upgrade pip setuptools
USER app
