# case: safe CWE-328
# Same store with SHA-256 over a random key of 32 bytes (a fast hash is fine for such keys).
import hashlib


class ApiKeyStore:
    def __init__(self):
        self.digests = {}

    def _digest(self, key):
        return hashlib.sha256(key.encode()).hexdigest()

    def add(self, owner, api_key):
        self.digests[self._digest(api_key)] = owner

    def owner_of(self, api_key):
        return self.digests.get(self._digest(api_key))
