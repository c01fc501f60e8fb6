"""Django's cached-database sessions, read from the database (on a cache miss) on a pooled thread
that gives its connection back at once.

Django's async read runs on the request's own thread, whose connection stays checked out until
the response ends: for the chat stream, that is the whole reply.
"""

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSessionStore

from config.threads import in_thread


class SessionStore(CachedDbSessionStore):
    async def _aget_session_from_db(self):
        return await in_thread(self._get_session_from_db)()
