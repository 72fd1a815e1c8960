# case: safe CWE-611
# Same endpoint with a parser that neither resolves entities nor fetches anything.
from django.http import HttpResponse
from lxml import etree

SOAP_PARSER_OPTIONS = dict(no_network=True, resolve_entities=False)


def soap_endpoint(request):
    parser = etree.XMLParser(**SOAP_PARSER_OPTIONS)
    envelope = etree.fromstring(request.body, parser)
    action = envelope.find(".//{*}Body/*")
    return HttpResponse(etree.QName(action).localname, content_type="text/plain")
