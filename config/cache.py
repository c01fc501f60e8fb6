"""Django's Redis cache with one connection pool per process, and a native async `aget`.

Django keeps a cache object per request context, which under ASGI means a new one for every
request, and each builds its own redis-py pool: a new TCP connection (and redis-py's package
metadata lookup) on every request, before the session can even be read. Sharing the client
keeps one pool per process; redis-py's pool is thread-safe and resets itself after a fork.

Django's `aget` and `aset` are `get` and `set` on a thread. Sessions are read through `aget` on
the chat stream's path to its first token, and a streaming reply saves its progress through
`aset` every few seconds, so both use redis-py's asyncio client instead (one per event loop, as
such a client cannot be shared between loops); the other async methods keep Django's.
"""

import asyncio
import threading
import weakref

import redis.asyncio
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.utils.functional import cached_property

_clients: dict[tuple, RedisCacheClient] = {}
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, redis.asyncio.Redis]] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


class RedisCache(DjangoRedisCache):
    @cached_property
    def _cache(self) -> RedisCacheClient:
        key = (tuple(self._servers), repr(sorted(self._options.items())))
        with _lock:
            if key not in _clients:
                _clients[key] = self._class(self._servers, **self._options)
            return _clients[key]

    def _async_client(self, *, write: bool = False) -> redis.asyncio.Redis:
        server = self._servers[self._cache._get_connection_pool_index(write=write)]
        clients = _async_clients.setdefault(asyncio.get_running_loop(), {})
        if server not in clients:
            # A bounded pool that waits for a free connection: with redis-py's default pool a
            # burst of more than 100 concurrent commands (1,000 open streams saving progress,
            # or starting together) failed with "Too many connections".
            pool = redis.asyncio.BlockingConnectionPool.from_url(
                server, max_connections=settings.REDIS_ASYNC_MAX_CONNECTIONS, timeout=10
            )
            clients[server] = redis.asyncio.Redis(connection_pool=pool)
        return clients[server]

    async def aget(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        value = await self._async_client().get(key)
        return default if value is None else self._cache._serializer.loads(value)

    async def aset(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        value = self._cache._serializer.dumps(value)
        timeout = self.get_backend_timeout(timeout)
        if timeout == 0:
            await self._async_client(write=True).delete(key)
        else:
            await self._async_client(write=True).set(key, value, ex=timeout)
