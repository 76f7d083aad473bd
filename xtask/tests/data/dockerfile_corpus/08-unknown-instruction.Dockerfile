FROM python:3.11-slim
COPPY app.py /app/
USER app
