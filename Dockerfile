# The lab as one Streamlit server in a container (the hosted demo; README, "Hosting").
#
#   docker build -t nn-lab .
#   docker run --rm -p 8501:8501 nn-lab          # then open http://localhost:8501
#
# One BLAS/OpenMP thread per server process (dashboard/common/threads.py): run one container per
# core, behind a proxy with session affinity, rather than one container on many cores.
# -e NN_LAB_BLAS_THREADS=2 (or auto) changes that; -e NN_LAB_MAX_TRAINING=N the training slots.
#
# Visitors' workspaces (dashboard/store/backend.py) go where NN_LAB_STORE says: empty (the
# default) is a SQLite file in /app/data/store, a VOLUME the app user owns; name it to keep it
# across containers (-v nn-lab-store:/app/data/store). "postgresql://user:password@host:5432/db"
# shares one database between replicas on several machines (psycopg[binary] from requirements.txt
# brings its own libpq: nothing else to install); "off" keeps nothing. NN_LAB_STORE_DAYS (7),
# NN_LAB_WORKSPACE_MB (20) and NN_LAB_STORE_MB (1000) bound it. A cluster: deploy/k8s/README.md.
# tests/test_container.py checks this file where Docker is missing, and builds it where it exists.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NN_LAB_BLAS_THREADS=1 \
    NN_LAB_STORE=""

WORKDIR /app

# The runtime requirements only (NumPy, pandas, scikit-learn, Streamlit, plotly, psycopg: all
# wheels, no compiler), in their own layer so that a code change does not reinstall them.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The app runs as an unprivileged user that cannot change its own code (owned by root). Fixed
# ids, so that a cluster can check them (deploy/k8s/deployment.yaml: runAsUser, fsGroup).
RUN groupadd --gid 10001 app \
    && useradd --create-home --uid 10001 --gid app --shell /usr/sbin/nologin app

COPY .streamlit/ .streamlit/
COPY streamlit_app.py ./
COPY pages/ pages/
COPY dashboard/ dashboard/
COPY nn/ nn/
COPY data/ data/

# The one folder the app writes: the SQLite workspace store (never copied in: .dockerignore).
RUN mkdir -p /app/data/store && chown app:app /app/data/store
VOLUME ["/app/data/store"]

USER app
EXPOSE 8501

# Streamlit's own health endpoint, asked with the Python already in the image (no curl here).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read().strip() != b'ok')"]

CMD ["streamlit", "run", "streamlit_app.py", "--server.port=8501", "--server.address=0.0.0.0"]
