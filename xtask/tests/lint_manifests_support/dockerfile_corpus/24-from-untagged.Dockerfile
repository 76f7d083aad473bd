FROM python
USER app
