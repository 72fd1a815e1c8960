# case: vulnerable CWE-643
# Django: product search builds an XPath with format() from several query fields kept in a dict.
from django.http import JsonResponse
from lxml import etree

CATALOG = etree.parse("/srv/app/catalog.xml")


def build_query(criteria):
    return "/catalog/product[category='{category}' and brand='{brand}']/name".format(**criteria)


def products(request):
    criteria = {
        "category": request.GET.get("category", "books"),
        "brand": request.GET.get("brand", "any"),
    }
    names = [n.text for n in CATALOG.xpath(build_query(criteria))]
    return JsonResponse({"products": names})
