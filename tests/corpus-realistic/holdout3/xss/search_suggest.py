# case: vulnerable CWE-79
# Django autocomplete returns an HTML fragment assembled from the query in a list of options.
from django.http import HttpResponse

SUGGESTIONS = ["apple", "apricot", "banana"]


def option_html(value, label):
    return '<option value="%s">%s</option>' % (value, label)


def suggest(request):
    term = request.GET.get("term", "")
    options = [option_html(s, s) for s in SUGGESTIONS if s.startswith(term)]
    options.insert(0, option_html(term, "Search for: " + term))
    return HttpResponse("\n".join(options))
