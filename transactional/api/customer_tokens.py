"""Short-lived customer tokens: HMAC-signed, so checking one needs no database read."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from transactional.domain.errors import Unauthorized

_PREFIX = "ctk"


def issue(customer_id: str, expires_at: datetime, key: str) -> str:
    payload = f"{customer_id}.{int(expires_at.timestamp())}"
    sig = hmac.new(key.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return f"{_PREFIX}.{payload}.{sig}"


def verify(token: str, now: datetime, key: str) -> str:
    """The customer id a valid, unexpired token was issued for."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _PREFIX or not parts[2].isdigit():
        raise Unauthorized("malformed customer token", code="invalid_customer_token")
    customer_id, expires, sig = parts[1], int(parts[2]), parts[3]
    expected = hmac.new(key.encode(), f"{customer_id}.{expires}".encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(sig, expected):
        raise Unauthorized("customer token signature does not match", code="invalid_customer_token")
    if now.timestamp() >= expires:
        raise Unauthorized("customer token has expired; sign in again", code="customer_token_expired")
    return customer_id
