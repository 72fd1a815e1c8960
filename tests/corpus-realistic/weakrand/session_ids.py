# case: vulnerable CWE-330
# A custom session store seeds ids from random.random and the clock.
import hashlib
import random
import time


class SessionStore:
    def __init__(self):
        self.sessions = {}

    def _new_id(self):
        seed = "%f-%f" % (time.time(), random.random())
        return hashlib.sha256(seed.encode()).hexdigest()

    def create(self, user_id):
        sid = self._new_id()
        self.sessions[sid] = {"user": user_id}
        return sid
