# case: vulnerable CWE-502
# Django: a "resume draft" endpoint restores state with marshal from a hex-encoded POST field.
import marshal

from django.http import JsonResponse


def decode_state(encoded):
    raw = bytes.fromhex(encoded)
    return marshal.loads(raw)


def resume_draft(request):
    state = decode_state(request.POST.get("state", ""))
    return JsonResponse({"fields": list(state)})
