import pytest


@pytest.fixture
def casdoor(casdoor):
    """In the wallet tests Casdoor already knows Alice and Bob (accounts' sync added them)."""
    for name in ("email_alice", "email_bob"):
        casdoor.users[("built-in", name)] = {"owner": "built-in", "name": name, "displayName": name}
    return casdoor
