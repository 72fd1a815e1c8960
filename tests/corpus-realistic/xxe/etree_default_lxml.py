# case: safe CWE-611
# lxml with an explicit hardened parser held on the class; the upload is only read, never resolved.
from flask import Flask, request
from lxml import etree

app = Flask(__name__)


class SitemapReader:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, dtd_validation=False)

    def urls(self, blob):
        tree = etree.fromstring(blob, self.parser)
        return [loc.text for loc in tree.iter("{*}loc")]


@app.post("/sitemaps")
def upload_sitemap():
    return {"urls": SitemapReader().urls(request.get_data())}
