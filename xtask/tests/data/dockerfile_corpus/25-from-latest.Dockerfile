FROM python:latest
USER app
