# case: safe CWE-501
# The middleware stores the tenant only if the logged-in user belongs to it.
class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = request.headers.get("X-Tenant")
        allowed = {m.tenant_slug for m in request.user.memberships.all()}
        if tenant in allowed:
            request.session["tenant"] = tenant
        return self.get_response(request)
