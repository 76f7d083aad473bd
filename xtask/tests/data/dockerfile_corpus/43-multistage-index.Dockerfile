FROM python:3.11-slim
RUN pip install --no-cache-dir --prefix=/install requests
FROM python:3.11-slim
COPY --from=0 /install /usr/local
USER app
CMD ["python"]
