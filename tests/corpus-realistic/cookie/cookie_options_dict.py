# case: vulnerable CWE-614
# Cookie options come from a settings dict where Secure is switched off.
from django.http import JsonResponse

SESSION_COOKIE_OPTIONS = {"max_age": 3600, "secure": False, "httponly": True, "samesite": "Lax"}


def issue_session(request):
    response = JsonResponse({"ok": True})
    response.set_cookie("sessionid", request.session.session_key, **SESSION_COOKIE_OPTIONS)
    return response
