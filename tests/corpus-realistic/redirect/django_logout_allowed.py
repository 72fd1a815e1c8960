# case: safe CWE-601
# Same flow; the target is checked with Django's url_has_allowed_host_and_scheme in a helper.
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def safe_target(request, candidate, default="/"):
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return default


class LogoutFlow:
    def __init__(self, request):
        self.request = request
        self.target = safe_target(request, request.POST.get("return_to", "/"))

    def finish(self):
        logout(self.request)
        return HttpResponseRedirect(self.target)


def logout_view(request):
    return LogoutFlow(request).finish()
