# case: vulnerable CWE-78
# Django class-based view: the domain from the query string goes to dig through a tool wrapper.
import subprocess

from django.http import JsonResponse
from django.views import View


class DnsTool:
    binary = "dig"

    def lookup(self, domain, record="A"):
        line = f"{self.binary} +short {record} {domain}"
        return subprocess.run(line, shell=True, capture_output=True, text=True).stdout


class DnsView(View):
    def get(self, request):
        domain = request.GET.get("domain", "example.com")
        return JsonResponse({"answer": DnsTool().lookup(domain)})
