# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
COPY requirements.txt ./
RUN pip install --no-cache-dir --prefix=/install -r requirements.txt
FROM python:3.11-slim
COPY --from=build /install /usr/local
COPY app.py /app/
USER 10001:10001
CMD ["python", "/app/app.py"]
