# case: vulnerable CWE-90
# Device registry lookup by serial number with python-ldap; the filter is an f-string.
import ldap
from django.http import JsonResponse

LDAP_URI = "ldap://ldap.example.com"


def device_by_serial(serial):
    conn = ldap.initialize(LDAP_URI)
    return conn.search_s("ou=devices,dc=example,dc=com", ldap.SCOPE_SUBTREE, f"(serialNumber={serial})")


def device(request):
    found = device_by_serial(request.GET.get("serial", ""))
    return JsonResponse({"count": len(found)})
