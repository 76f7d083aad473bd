FROM python:3.11-slim
EXPOSE 80 443/tcp 53/udp 8000-8010
USER app
