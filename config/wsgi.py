import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()
# Django loads the URLconf (and through the views numpy, scipy, the whole
# project) on a worker's first request. Loaded here, gunicorn's --preload
# does it once in its master and every worker starts with it: a worker's
# first request is not the one that waits, nor killed by the worker timeout
# on a busy host while several processes start at once.
get_resolver().url_patterns  # noqa: B018
