"""The address of the client a request came from, through the load balancers HQ trusts.

Behind a load balancer every connection comes from the balancer: login
lockouts (django-axes), sign-up limits and API throttles would count the
whole country as one client. Each trusted proxy appends the address it was
connected from to ``X-Forwarded-For``; with ``TRUSTED_PROXY_COUNT`` proxies
in front, the client is the entry that many places from the right. Entries
further left are whatever the client sent, never trusted. With no proxy
(the default) the header is ignored: anyone could write it.
"""

from django.conf import settings


def client_ip(request) -> str:
    """Return the client's address (``AXES_CLIENT_IP_CALLABLE`` and the sign-up limits)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        # Fewer hops than proxies: the request did not come through them all.
        return remote
    return forwarded[-proxies]
