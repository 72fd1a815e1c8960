# case: safe CWE-90
# Same backend; ldap3's escape_filter_chars is applied in a normalising helper.
from django.http import JsonResponse
from ldap3 import Connection, Server
from ldap3.utils.conv import escape_filter_chars

SERVER = Server("ldaps://ldap.example.com")


def normalise_username(raw):
    return escape_filter_chars(raw.strip().lower())


def find_user(conn, username):
    search_filter = "(&(objectClass=inetOrgPerson)(uid={}))".format(username)
    conn.search("dc=example,dc=com", search_filter, attributes=["cn"])
    return conn.entries


def ldap_login(request):
    conn = Connection(SERVER, user="cn=reader,dc=example,dc=com", password="", auto_bind=True)
    entries = find_user(conn, normalise_username(request.POST["username"]))
    return JsonResponse({"found": len(entries)})
