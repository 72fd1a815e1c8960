# case: vulnerable CWE-501
# Django: the "acting role" header is trusted and put into the session.
from django.http import JsonResponse


def remember_role(request, role):
    request.session["role"] = role
    request.session.modified = True


def switch_role(request):
    role = request.META.get("HTTP_X_ACTING_ROLE", "viewer")
    remember_role(request, role)
    return JsonResponse({"role": role})
