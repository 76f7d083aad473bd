FROM python:3.11-slim
EXPOSE 8000-70000/tcp
USER app
