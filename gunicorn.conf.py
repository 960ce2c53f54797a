"""gunicorn settings for a 2-core appliance: `gunicorn -c gunicorn.conf.py 'app:create_app()'`.

TLS is on when AWXH_TLS_CERT and AWXH_TLS_KEY name a certificate and key.
"""
import gc
import ipaddress
import os

bind = os.environ.get("AWXH_BIND", "0.0.0.0:8443" if os.environ.get("AWXH_TLS_CERT") else "127.0.0.1:8000")
workers = int(os.environ.get("AWXH_WORKERS", "2"))          # one per core
worker_class = "gthread"
threads = int(os.environ.get("AWXH_THREADS", "8"))          # device I/O waits, it does not compute
timeout = 120                                                # live router reads can take tens of seconds
graceful_timeout = 30
keepalive = 5
# recycle workers to cap slow leaks, rarely and apart: a worker needs ~2 s to boot, and two workers that
# hit a small limit together leave no one serving (seen as 5 s stalls in bench/api_load.py)
max_requests = 50000
max_requests_jitter = 25000
limit_request_line = 8190
limit_request_fields = 100
accesslog = "-"
errorlog = "-"
# The access log must not carry tokens: the format has no headers and no query string.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
certfile = os.environ.get("AWXH_TLS_CERT") or None
keyfile = os.environ.get("AWXH_TLS_KEY") or None
control_socket_disable = True  # gunicorn 27's default ~/.gunicorn/gunicorn.ctl is shared by every instance
preload_app = False          # each worker opens its own database connections



def on_starting(server):
    """Tokens must not cross the LAN in clear: a non-loopback bind needs TLS (or an explicit override).
    A hook, not a check at import, so that a --bind on the command line is judged too; it runs before
    any socket is bound."""
    if server.cfg.certfile or os.environ.get("AWXH_ALLOW_PLAINTEXT") == "1":
        return
    for address in server.cfg.bind:
        host = "127.0.0.1" if address.startswith("unix:") else address.rsplit(":", 1)[0].strip("[]")
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            message = (f"refusing to serve plain HTTP on {address}: set AWXH_TLS_CERT and AWXH_TLS_KEY, bind "
                       "127.0.0.1, or set AWXH_ALLOW_PLAINTEXT=1 behind a TLS proxy")
            server.log.error(message)
            raise SystemExit(message)


def post_worker_init(worker):
    """Move the loaded application (~130 000 objects: SQLAlchemy, marshmallow, netmiko, pysnmp) out of
    the garbage collector's way. Each full collection walked them all, holding the GIL ~150 ms: the
    worst latencies under load. Objects made later are still collected as usual."""
    gc.freeze()
