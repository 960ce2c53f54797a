# The appliance API under gunicorn. Build: docker build -t awx-hardening .
# Run:  docker run -d -p 8443:8443 -v awxh-data:/data \
#         -v /etc/awxh/tls:/tls:ro -e AWXH_TLS_CERT=/tls/cert.pem -e AWXH_TLS_KEY=/tls/key.pem awx-hardening
# The data volume holds the SQLite database and secret.key (0600): back it up, keep it private.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AWXH_DATA_DIR=/data \
    AWXH_BIND=0.0.0.0:8443

# iputils-ping: the outside probe's ICMP echo; openssh-client is not needed (paramiko speaks SSH).
RUN apt-get update \
 && apt-get install -y --no-install-recommends iputils-ping \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY app.py gunicorn.conf.py ./
COPY api/ api/
COPY device_drivers/ device_drivers/
COPY firewall/ firewall/
COPY hardening/ hardening/
COPY store/ store/
COPY simulator/ simulator/
COPY openapi/ openapi/

# A fixed non-root uid so the data volume's ownership is predictable; no shell, no home.
RUN groupadd --system --gid 10001 awxh \
 && useradd --system --uid 10001 --gid awxh --no-create-home --shell /usr/sbin/nologin awxh \
 && mkdir -p /data && chown awxh:awxh /data && chmod 700 /data
USER awxh
VOLUME ["/data"]
EXPOSE 8443

# Probes the port gunicorn binds, over TLS when a certificate is configured (self-signed is fine here).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os,ssl,urllib.request as u; port=os.environ['AWXH_BIND'].rsplit(':',1)[1]; \
scheme='https' if os.environ.get('AWXH_TLS_CERT') else 'http'; \
u.urlopen(f'{scheme}://127.0.0.1:{port}/api/v1/health', timeout=4, context=ssl._create_unverified_context())"

CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]
