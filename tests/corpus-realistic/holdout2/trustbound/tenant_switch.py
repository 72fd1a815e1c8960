# case: vulnerable CWE-501
# Django middleware copies the X-Tenant header into the session for later views.
class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = request.headers.get("X-Tenant")
        if tenant:
            request.session["tenant"] = tenant
        return self.get_response(request)
