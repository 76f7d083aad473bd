FROM python:3.11-slim
COPY app.py /app/
USER app
ENTRYPOINT ["python"]
CMD ["/app/app.py"]
