# case: safe CWE-614
# Same settings dict, with Secure on.
from django.http import JsonResponse

SESSION_COOKIE_OPTIONS = {"max_age": 3600, "secure": True, "httponly": True, "samesite": "Lax"}


def issue_session(request):
    response = JsonResponse({"ok": True})
    response.set_cookie("sessionid", request.session.session_key, **SESSION_COOKIE_OPTIONS)
    return response
