"""Password hashing: Argon2id with parameters we state, not the library's defaults.

OWASP's Password Storage Cheat Sheet (2023) lists Argon2id with m=19 MiB, t=2, p=1 as a minimum
configuration. Django's default (m=100 MiB, t=2, p=8) costs ~210 ms of CPU per login on our 2-core
machine — one core then verifies ~5 logins a second, and a login burst starves every other request.
These parameters cost ~25 ms of CPU (bench/accounts_login_cost.py) and remain memory-hard: every
guess an attacker makes still needs 19 MiB and two passes. Existing hashes with other parameters
still verify (Argon2 stores its parameters in the hash) and are re-hashed at the next login.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    """Argon2id, memory_cost=19,456 KiB (19 MiB), time_cost=2, parallelism=1."""

    time_cost = 2
    memory_cost = 19456
    parallelism = 1
