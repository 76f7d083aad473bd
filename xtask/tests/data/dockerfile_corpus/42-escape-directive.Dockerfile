# escape=`
FROM python:3.11-slim
RUN pip install `
      requests
USER app
