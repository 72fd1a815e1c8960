# case: safe CWE-328
# Upload de-duplication uses SHA-256 content hashes.
import hashlib

from django.http import JsonResponse


def content_key(fileobj):
    digest = hashlib.sha256()
    for chunk in fileobj.chunks():
        digest.update(chunk)
    return digest.hexdigest()


def upload(request):
    key = content_key(request.FILES["file"])
    return JsonResponse({"key": key})
