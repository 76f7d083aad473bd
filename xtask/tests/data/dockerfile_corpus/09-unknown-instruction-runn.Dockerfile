FROM python:3.11-slim
WORKDIR /app
RUNN python -c 'print(1)'
USER app
