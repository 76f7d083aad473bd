# disagree: DF-CMD-SHELL-FORM 4 hadolint: a HEALTHCHECK in shell form gets no signal to pass on, so we leave it
FROM python:3.11-slim
USER app
HEALTHCHECK CMD python -c 'import urllib.request; urllib.request.urlopen("http://localhost:8080")'
CMD ["python", "-m", "http.server", "8080"]
