"""Signals accounts sends for higher apps to act on (accounts imports none of them)."""

from django.dispatch import Signal

# Sent with `user` inside the transaction that is about to delete them: an app whose rows protect
# the user removes what may go (wallets: an unused wallet) or leaves it, and the deletion stops.
user_removing = Signal()
