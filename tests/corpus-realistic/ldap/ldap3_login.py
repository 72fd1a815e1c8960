# case: vulnerable CWE-90
# Django login backend with ldap3: the username is formatted into the search filter.
from django.http import JsonResponse
from ldap3 import Connection, Server

SERVER = Server("ldaps://ldap.example.com")


def find_user(conn, username):
    search_filter = "(&(objectClass=inetOrgPerson)(uid={}))".format(username)
    conn.search("dc=example,dc=com", search_filter, attributes=["cn"])
    return conn.entries


def ldap_login(request):
    conn = Connection(SERVER, user="cn=reader,dc=example,dc=com", password="", auto_bind=True)
    entries = find_user(conn, request.POST["username"])
    return JsonResponse({"found": len(entries)})
