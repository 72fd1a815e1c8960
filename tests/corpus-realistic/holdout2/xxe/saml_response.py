# case: vulnerable CWE-611
# A SAML response is parsed with minidom over a SAX parser that has external entities enabled.
import base64
import xml.sax
from xml.dom import minidom

from django.http import HttpResponse


def saml_parser():
    parser = xml.sax.make_parser()
    parser.setFeature("http://xml.org/sax/features/external-general-entities", True)
    return parser


def acs(request):
    xml_text = base64.b64decode(request.POST["SAMLResponse"]).decode()
    doc = minidom.parseString(xml_text, parser=saml_parser())
    issuer = doc.getElementsByTagName("saml:Issuer")[0].firstChild.data
    return HttpResponse(issuer, content_type="text/plain")
