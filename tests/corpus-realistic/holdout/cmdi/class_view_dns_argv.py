# case: safe CWE-78
# Same view; the wrapper passes an argv list, and the domain must match a hostname pattern.
import re
import subprocess

from django.http import HttpResponseBadRequest, JsonResponse
from django.views import View

HOSTNAME = re.compile(r"^[a-z0-9.-]{1,253}$")


class DnsTool:
    binary = "dig"

    def lookup(self, domain, record="A"):
        argv = [self.binary, "+short", record, domain]
        return subprocess.run(argv, capture_output=True, text=True).stdout


class DnsView(View):
    def get(self, request):
        domain = request.GET.get("domain", "example.com")
        if not HOSTNAME.match(domain):
            return HttpResponseBadRequest("bad domain")
        return JsonResponse({"answer": DnsTool().lookup(domain)})
