"""Password hashing and the password policy. Pure: no Flask, so the CLI and tests use it directly.

Argon2id with OWASP's smallest recommended profile (19 MiB, 2 passes, 1 lane). Memory is what limits a small
classroom server, so no more hashes run at once than the machine has cores (:data:`_HASHING`): a class signing
in together queues for the cores it would have waited for anyway, holding 2 x 19 MiB on a two-core server
instead of one 19 MiB block per worker thread.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

DEFAULT_MEMORY_KIB = 19 * 1024
DEFAULT_TIME_COST = 2
#: Hashing is CPU-bound (argon2 releases the GIL): more at once than cores finishes no sooner, it only holds
#: more memory.
_HASHING = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))


@cache
def _hasher(memory_kib: int, time_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)


@dataclass(frozen=True)
class HashPolicy:
    memory_kib: int = DEFAULT_MEMORY_KIB
    time_cost: int = DEFAULT_TIME_COST

    @property
    def hasher(self) -> PasswordHasher:
        return _hasher(self.memory_kib, self.time_cost)

    def hash(self, password: str) -> str:
        with _HASHING:
            return self.hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Check ``password``; with no stored hash, spend the same time and fail (no user enumeration)."""
        if stored_hash is None:
            stored_hash = _dummy_hash(self)
            password = password + "\x00"
        try:
            with _HASHING:
                return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True


@cache
def _dummy_hash(policy: HashPolicy) -> str:
    return policy.hash("cbt-dummy-password")


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("cbt.auth").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


#: Reasons a password is refused; msgids translated by the caller.
TOO_SHORT = "too_short"
SAME_AS_USERNAME = "same_as_username"
TOO_COMMON = "too_common"


def password_problems(password: str, *, username: str, min_length: int) -> list[str]:
    """Return the reasons ``password`` is unacceptable (empty when it is fine)."""
    problems = []
    if len(password) < min_length:
        problems.append(TOO_SHORT)
    lowered = password.lower()
    if username and username.lower() in lowered:
        problems.append(SAME_AS_USERNAME)
    if lowered in common_passwords():
        problems.append(TOO_COMMON)
    return problems
