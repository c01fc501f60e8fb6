"""Django's Redis cache with one connection pool per process.

Django keeps a cache object per request context, which under ASGI means a new one for every
request, and each builds its own redis-py pool: a new TCP connection (and redis-py's package
metadata lookup) on every request, before the session can even be read. Sharing the client
keeps one pool per process; redis-py's pool is thread-safe and resets itself after a fork.
"""

import threading

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple, RedisCacheClient] = {}
_lock = threading.Lock()


class RedisCache(DjangoRedisCache):
    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]
