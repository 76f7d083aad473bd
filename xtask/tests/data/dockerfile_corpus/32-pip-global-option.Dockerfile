FROM python:3.11-slim
RUN pip --disable-pip-version-check install requests
USER app
