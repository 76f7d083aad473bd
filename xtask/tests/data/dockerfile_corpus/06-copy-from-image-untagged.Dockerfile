# disagree: DF-FROM-TAG 4 ours: an image reference (it has a `/`), so we ask for a tag
# disagree: DF-COPY-FROM-STAGE 4 hadolint: hadolint calls any --from without `:` a missing stage
FROM python:3.11-slim
COPY --from=ghcr.io/astral-sh/uv /uv /bin/uv
USER app
