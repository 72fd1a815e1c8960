# case: safe CWE-90
# Same lookup; the serial must be alphanumeric.
import ldap
from django.http import HttpResponseBadRequest, JsonResponse

LDAP_URI = "ldap://ldap.example.com"


def device_by_serial(serial):
    conn = ldap.initialize(LDAP_URI)
    return conn.search_s("ou=devices,dc=example,dc=com", ldap.SCOPE_SUBTREE, f"(serialNumber={serial})")


def device(request):
    serial = request.GET.get("serial", "")
    if not serial.isalnum():
        return HttpResponseBadRequest("bad serial")
    return JsonResponse({"count": len(device_by_serial(serial))})
