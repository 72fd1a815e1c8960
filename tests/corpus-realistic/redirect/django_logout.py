# case: vulnerable CWE-601
# Django logout redirects to a URL stored in a POST field via a class attribute.
from django.contrib.auth import logout
from django.http import HttpResponseRedirect


class LogoutFlow:
    default = "/"

    def __init__(self, request):
        self.request = request
        self.target = request.POST.get("return_to", self.default)

    def finish(self):
        logout(self.request)
        return HttpResponseRedirect(self.target)


def logout_view(request):
    return LogoutFlow(request).finish()
