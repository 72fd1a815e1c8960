# case: vulnerable CWE-614
# The CSRF token is mirrored into a cookie for the SPA, set without Secure.
from django.http import JsonResponse
from django.middleware.csrf import get_token


def csrf_bootstrap(request):
    response = JsonResponse({"ok": True})
    response.set_cookie("csrftoken_spa", get_token(request), samesite="Strict", httponly=False)
    return response
