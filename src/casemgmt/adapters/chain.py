"""Keys of the tamper-evident hash chain and of the signed checkpoints.

Each event's ``hash`` covers the previous event's hash in its case and the event's
canonical bytes. With a chain key configured (``CASEMGMT_CHAIN_KEYS``, kept outside the
database) it is an HMAC-SHA256, stored as ``hmac-sha256:<key id>:<hex>``, so someone who
can rewrite rows but does not hold the key cannot re-seal a chain after changing it.
Rows written before keys were configured keep their plain SHA-256 (64 hex digits) and
still verify. Several keys may be configured for rotation: the first seals and signs, all
of them verify.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

__all__ = ["KEYED_PREFIX", "ChainKeys"]

KEYED_PREFIX = "hmac-sha256:"


@dataclass(frozen=True)
class ChainKeys:
    """Chain keys by id; ``active`` (the first configured) seals new events."""

    keys: dict[str, bytes] = field(default_factory=dict)
    active: str | None = None

    @classmethod
    def parse(cls, spec: str) -> ChainKeys:
        """``"id1=secret1,id2=secret2"`` (secrets of at least 32 characters); ``""``: none.

        ``ValueError`` naming the problem for a malformed spec.
        """
        keys: dict[str, bytes] = {}
        for part in (p.strip() for p in spec.split(",")):
            if not part:
                continue
            key_id, sep, secret = part.partition("=")
            if not sep or not key_id.isalnum() or len(secret) < 32 or key_id in keys:
                raise ValueError(
                    "CASEMGMT_CHAIN_KEYS must be id=secret pairs (alphanumeric, unique ids; "
                    "secrets of at least 32 characters), separated by commas"
                )
            keys[key_id] = secret.encode()
        return cls(keys=keys, active=next(iter(keys), None))

    def seal(self, prev_hash: str | None, canonical: bytes) -> str:
        """The hash of a new event: keyed with the active key, plain SHA-256 without one."""
        if self.active is None:
            return plain_hash(prev_hash, canonical)
        return self._keyed(self.active, prev_hash, canonical)

    def problem(self, stored: str, prev_hash: str | None, canonical: bytes) -> str | None:
        """Why ``stored`` is not this event's hash, or None when it is."""
        if not stored.startswith(KEYED_PREFIX):
            ok = hmac.compare_digest(stored, plain_hash(prev_hash, canonical))
            return None if ok else "hash does not match the stored content (event altered)"
        key_id = stored[len(KEYED_PREFIX) :].partition(":")[0]
        if key_id not in self.keys:
            return f"sealed with chain key {key_id!r}, which is not configured"
        if hmac.compare_digest(stored, self._keyed(key_id, prev_hash, canonical)):
            return None
        return "keyed hash does not match the stored content (event altered or re-sealed)"

    def sign(self, payload: bytes) -> tuple[str, str]:
        """``(key id, hex HMAC)`` of ``payload`` under the active key (``LookupError``
        without one)."""
        if self.active is None:
            raise LookupError("no chain key is configured (CASEMGMT_CHAIN_KEYS)")
        return self.active, hmac.new(self.keys[self.active], payload, hashlib.sha256).hexdigest()

    def signature_ok(self, key_id: str, payload: bytes, signature: str) -> bool:
        key = self.keys.get(key_id)
        if key is None:
            return False
        return hmac.compare_digest(hmac.new(key, payload, hashlib.sha256).hexdigest(), signature)

    def _keyed(self, key_id: str, prev_hash: str | None, canonical: bytes) -> str:
        # One-shot HMAC (OpenSSL's fast path, no HMAC object): verify and bulk import
        # seal or check one per event.
        message = (prev_hash or "").encode("ascii") + canonical
        mac = hmac.digest(self.keys[key_id], message, "sha256").hex()
        return f"{KEYED_PREFIX}{key_id}:{mac}"


def plain_hash(prev_hash: str | None, canonical: bytes) -> str:
    """The unkeyed chain hash (before keys): SHA-256 of the previous hash and the bytes."""
    digest = hashlib.sha256((prev_hash or "").encode("ascii"))
    digest.update(canonical)
    return digest.hexdigest()
