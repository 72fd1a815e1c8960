# case: vulnerable CWE-330
# Django model method issues API keys from random.getrandbits formatted as hex.
import random

from django.db import models


class ApiClient(models.Model):
    name = models.CharField(max_length=80)
    key = models.CharField(max_length=64, unique=True)

    def rotate(self):
        self.key = "%032x" % random.getrandbits(128)
        self.save(update_fields=["key"])
        return self.key
