# case: safe CWE-330
# Same model using random.SystemRandom, which draws from the OS CSPRNG.
import random

from django.db import models

_rng = random.SystemRandom()


class ApiClient(models.Model):
    name = models.CharField(max_length=80)
    key = models.CharField(max_length=64, unique=True)

    def rotate(self):
        self.key = "%032x" % _rng.getrandbits(128)
        self.save(update_fields=["key"])
        return self.key
