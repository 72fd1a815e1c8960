# case: vulnerable CWE-328
# User passwords are hashed with salted MD5 in an account service.
import hashlib
import os


class AccountService:
    def __init__(self, db):
        self.db = db

    def _digest(self, password, salt):
        return hashlib.md5(salt + password.encode("utf-8")).hexdigest()

    def register(self, username, password):
        salt = os.urandom(16)
        self.db[username] = (salt, self._digest(password, salt))
