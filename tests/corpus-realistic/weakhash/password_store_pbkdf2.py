# case: safe CWE-328
# Same service using PBKDF2-HMAC-SHA256 with many iterations.
import hashlib
import os


class AccountService:
    def __init__(self, db):
        self.db = db

    def _digest(self, password, salt):
        return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, 600_000).hex()

    def register(self, username, password):
        salt = os.urandom(16)
        self.db[username] = (salt, self._digest(password, salt))
