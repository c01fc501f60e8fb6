"""What media tells the apps above it (it imports none of them)."""

from django.dispatch import Signal

# Sent once per generation, inside the transaction that finishes it (completed and charged, or
# failed and released), with `generation` as it now is. A receiver updates what it shows of the
# job (chats: the message that carries it); raising rolls the finish back, to be tried again.
generation_finished = Signal()
