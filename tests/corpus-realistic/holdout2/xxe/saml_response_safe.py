# case: safe CWE-611
# The SAML response is parsed with defusedxml's minidom.
import base64

from defusedxml import minidom
from django.http import HttpResponse


def acs(request):
    xml_text = base64.b64decode(request.POST["SAMLResponse"]).decode()
    doc = minidom.parseString(xml_text)
    issuer = doc.getElementsByTagName("saml:Issuer")[0].firstChild.data
    return HttpResponse(issuer, content_type="text/plain")
