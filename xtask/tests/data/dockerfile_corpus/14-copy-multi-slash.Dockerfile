FROM python:3.11-slim
COPY app.py requirements.txt /app/
USER app
