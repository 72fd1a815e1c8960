# case: vulnerable CWE-611
# A SOAP endpoint parses the envelope with lxml, network access for entities switched on.
from django.http import HttpResponse
from lxml import etree

SOAP_PARSER_OPTIONS = dict(no_network=False, resolve_entities=True)


def soap_endpoint(request):
    parser = etree.XMLParser(**SOAP_PARSER_OPTIONS)
    envelope = etree.fromstring(request.body, parser)
    action = envelope.find(".//{*}Body/*")
    return HttpResponse(etree.QName(action).localname, content_type="text/plain")
