# case: safe CWE-501
# The role stored in the session is read from the user's database record, not the request.
from django.http import JsonResponse


def remember_role(request, role):
    request.session["role"] = role
    request.session.modified = True


def switch_role(request):
    requested = request.META.get("HTTP_X_ACTING_ROLE", "viewer")
    role = request.user.profile.role
    remember_role(request, role)
    return JsonResponse({"role": role, "requested": requested})
