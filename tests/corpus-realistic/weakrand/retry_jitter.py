# case: safe CWE-330
# Backoff jitter for an HTTP client uses random.uniform.
import random
import time

import requests


class PartnerClient:
    def __init__(self, base_url, attempts=4):
        self.base_url = base_url
        self.attempts = attempts

    def _sleep(self, attempt):
        time.sleep(min(30, 2 ** attempt) + random.uniform(0, 1))

    def fetch(self, path):
        for attempt in range(self.attempts):
            resp = requests.get(self.base_url + path, timeout=10)
            if resp.status_code < 500:
                return resp.json()
            self._sleep(attempt)
        resp.raise_for_status()
