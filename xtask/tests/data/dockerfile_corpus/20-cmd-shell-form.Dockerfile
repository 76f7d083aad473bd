FROM python:3.11-slim
COPY app.py /app/
USER app
CMD python /app/app.py
