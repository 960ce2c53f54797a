"""gunicorn settings for a 2-core appliance: `gunicorn -c gunicorn.conf.py 'app:create_app()'`.

TLS is on when AWXH_TLS_CERT and AWXH_TLS_KEY name a certificate and key.
"""
import os

bind = os.environ.get("AWXH_BIND", "0.0.0.0:8443" if os.environ.get("AWXH_TLS_CERT") else "127.0.0.1:8000")
workers = int(os.environ.get("AWXH_WORKERS", "2"))          # one per core
worker_class = "gthread"
threads = int(os.environ.get("AWXH_THREADS", "8"))          # device I/O waits, it does not compute
timeout = 120                                                # live router reads can take tens of seconds
graceful_timeout = 30
keepalive = 5
max_requests = 2000                                          # recycle workers to cap slow leaks
max_requests_jitter = 200
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
# The access log must not carry tokens: the format has no headers and no query string.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
certfile = os.environ.get("AWXH_TLS_CERT") or None
keyfile = os.environ.get("AWXH_TLS_KEY") or None
preload_app = False          # each worker opens its own database connections
