# case: safe CWE-330
# A/B bucket assignment by random.random; the bucket is stored openly, it is not a secret.
import random

from django.http import JsonResponse


def assign_bucket(ratio=0.5):
    return "b" if random.random() < ratio else "a"


def experiment(request):
    bucket = request.session.get("bucket") or assign_bucket()
    return JsonResponse({"bucket": bucket})
