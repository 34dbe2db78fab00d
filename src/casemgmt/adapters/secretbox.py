"""Reversible secrets at rest (webhook signing secrets), encrypted with keys from settings.

``CASEMGMT_SECRET_KEYS`` holds one or more Fernet keys (AES-128-CBC + HMAC-SHA256,
``cryptography``), comma-separated: the first encrypts, all decrypt (``MultiFernet``), so
a key is rotated by putting a new one first and re-encrypting (``casemgmt secrets
rotate``) before dropping the old one. A stored value is ``enc:<fernet token>``; a value
without the prefix is a plain secret from before encryption and is read as is.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["ENCRYPTED_PREFIX", "SecretBox"]

ENCRYPTED_PREFIX = "enc:"


class SecretBox:
    """Encrypts and decrypts stored secrets; without keys it stores them as given."""

    def __init__(self, keys: str = "") -> None:
        """``keys``: comma-separated Fernet keys (``ValueError`` naming the setting if one
        is malformed); empty: no encryption."""
        parts = [k.strip() for k in keys.split(",") if k.strip()]
        try:
            self._fernet = MultiFernet([Fernet(k) for k in parts]) if parts else None
        except (ValueError, TypeError) as exc:
            raise ValueError(
                "CASEMGMT_SECRET_KEYS must be comma-separated Fernet keys "
                "(python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from exc

    @property
    def encrypting(self) -> bool:
        return self._fernet is not None

    def seal(self, secret: str) -> str:
        """The value to store for ``secret``."""
        if self._fernet is None:
            return secret
        return ENCRYPTED_PREFIX + self._fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        """The secret a stored value holds. ``ValueError`` if it is encrypted with no key
        configured or with none of the configured keys."""
        if not stored.startswith(ENCRYPTED_PREFIX):
            return stored
        if self._fernet is None:
            raise ValueError("a stored secret is encrypted but CASEMGMT_SECRET_KEYS is empty")
        try:
            return self._fernet.decrypt(stored[len(ENCRYPTED_PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise ValueError(
                "a stored secret was encrypted with a key no longer configured"
            ) from exc

    def rotate(self, stored: str) -> str:
        """``stored`` re-encrypted with the first key (plain values get encrypted)."""
        return self.seal(self.open(stored))
