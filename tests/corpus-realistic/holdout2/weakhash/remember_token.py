# case: vulnerable CWE-328
# The "remember me" token stored in the database is a SHA-1 of user id and password hash.
import hashlib


class RememberMe:
    def __init__(self, store):
        self.store = store

    def token_for(self, user):
        material = f"{user.id}:{user.password_hash}"
        return hashlib.sha1(material.encode()).hexdigest()

    def remember(self, user):
        self.store[user.id] = self.token_for(user)
