"""Sync code called from async code."""

from asgiref.sync import sync_to_async
from django import db


def in_thread(function):
    """`function` (called with keyword arguments) on a pooled thread, its database connection
    back to the pool afterwards.

    Django's default for `sync_to_async` is a new thread per request (its thread-sensitive
    mode), whose start shows in the stream's profile; and a connection left open on a pooled
    thread stays checked out of the pool. A stream lasts seconds to minutes and must not keep
    one of the pool's few connections: at 100 streams the pool ran dry and replies queued.
    """

    def run(**kwargs):
        try:
            return function(**kwargs)
        finally:
            db.connection.close()

    return sync_to_async(run, thread_sensitive=False)
