# Reengage: the web server by default; the same image runs the worker and the clock (see compose.yaml).
# Dependencies are installed into a virtual environment in a build stage, and only that environment and the
# code reach the final image: no compilers, no pip cache.
FROM docker.io/library/python:3.11-slim AS build
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt

FROM docker.io/library/python:3.11-slim
RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home --shell /usr/sbin/nologin reengage \
 && mkdir -p /metrics && chown reengage:reengage /metrics
COPY --from=build /venv /venv
COPY --chown=root:root . /app
# The embedded default (no DATABASE_URL) keeps its SQLite file and secret in /data, the working folder.
ENV PATH=/venv/bin:$PATH PYTHONPATH=/app PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    FLASK_APP=app:app HOST=0.0.0.0 PORT=8000 PROMETHEUS_MULTIPROC_DIR=/metrics
WORKDIR /data
USER reengage
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz\", timeout=4)"]
CMD ["gunicorn", "-c", "/app/gunicorn.conf.py", "app:app"]
