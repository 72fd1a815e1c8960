# case: vulnerable CWE-94
# A Jinja environment built from a user-provided template string (server-side template injection).
from django.http import HttpResponse
from jinja2 import Environment

env = Environment(autoescape=True)


def render_snippet(source, **context):
    return env.from_string(source).render(**context)


def snippet_preview(request):
    body = request.POST.get("template", "Hello {{ name }}")
    return HttpResponse(render_snippet(body, name=request.user.get_username()))
