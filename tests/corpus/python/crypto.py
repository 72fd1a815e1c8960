"""Weak password hashing and weak randomness samples."""
import hashlib
import os
import random
import secrets
import string

ALPHABET = string.ascii_letters + string.digits


def store_user(db, email, password):
    # ruleid: py-weak-password-hash
    digest = hashlib.md5(password.encode()).hexdigest()
    db.insert(email=email, password_hash=digest)


def store_user_sha(db, email, new_password):
    hasher = hashlib.sha256()
    # ruleid: py-weak-password-hash
    hasher.update(new_password.encode())
    db.insert(email=email, password_hash=hasher.hexdigest())


def store_user_safe(db, email, password):
    salt = os.urandom(16)
    # ok: py-weak-password-hash
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    db.insert(email=email, password_hash=salt + digest)


def etag(body: bytes) -> str:
    # ok: py-weak-password-hash
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def cache_key(url: str) -> str:
    # ok: py-weak-password-hash
    return hashlib.sha1(url.encode()).hexdigest()


def new_reset_code():
    # ruleid: py-weak-random-secret
    reset_code = "".join(random.choice(ALPHABET) for _ in range(8))
    return reset_code


def make_api_token():
    # ruleid: py-weak-random-secret
    return "%032x" % random.getrandbits(128)


def issue_session(user):
    # ruleid: py-weak-random-secret
    user.session_id = str(random.randint(10**9, 10**10))
    # ok: py-weak-random-secret
    user.csrf_token = secrets.token_urlsafe(32)


def make_password():
    # ok: py-weak-random-secret
    password = "".join(secrets.choice(ALPHABET) for _ in range(16))
    return password


def sample_rows(rows):
    # ok: py-weak-random-secret
    picked = random.sample(rows, k=min(10, len(rows)))
    # ok: py-weak-random-secret
    jitter = random.uniform(0.5, 1.5)
    return picked, jitter
