from python:3.11-slim
workdir /app
copy app.py /app/
user app
cmd ["python", "app.py"]
