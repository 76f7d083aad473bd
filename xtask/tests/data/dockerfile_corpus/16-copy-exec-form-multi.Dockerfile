FROM python:3.11-slim
COPY ["app.py", "requirements.txt", "/srv"]
USER app
