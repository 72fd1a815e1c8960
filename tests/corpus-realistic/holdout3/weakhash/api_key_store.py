# case: vulnerable CWE-328
# API keys are stored as unsalted MD5 digests in a key store class.
import hashlib


class ApiKeyStore:
    def __init__(self):
        self.digests = {}

    def _digest(self, key):
        return hashlib.md5(key.encode()).hexdigest()

    def add(self, owner, api_key):
        self.digests[self._digest(api_key)] = owner

    def owner_of(self, api_key):
        return self.digests.get(self._digest(api_key))
