# case: safe CWE-611
# Same handler with the SAX defaults (external entities are off since Python 3.7.1).
import io
import xml.sax

from django.http import JsonResponse


class TitleCollector(xml.sax.ContentHandler):
    def __init__(self):
        super().__init__()
        self.titles = []
        self._in_title = False

    def startElement(self, name, attrs):
        self._in_title = name == "title"

    def characters(self, content):
        if self._in_title:
            self.titles.append(content)


def feed_titles(request):
    parser = xml.sax.make_parser()
    handler = TitleCollector()
    parser.setContentHandler(handler)
    parser.parse(io.BytesIO(request.body))
    return JsonResponse({"titles": handler.titles})
