# The example project with dbrole-switch installed from this checkout; used by
# docker-compose.yml for migrations, provisioning and a read-only shell.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY . /src
RUN pip install '/src[binary]' ipython

RUN useradd --create-home --uid 10001 app
USER app
WORKDIR /src/example
CMD ["python", "manage.py", "shell"]
