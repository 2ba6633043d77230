"""gunicorn settings for promoplan (``gunicorn -c gunicorn.conf.py run:app``).

Every value can be overridden by an environment variable of the same name in
capitals with the prefix GUNICORN_ (e.g. GUNICORN_WORKERS=4).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Restart workers now and then so that memory stays bounded.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
# The app sits behind a reverse proxy that sets X-Forwarded-* (see deploy/nginx.conf).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
