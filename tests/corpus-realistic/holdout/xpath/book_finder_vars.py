# case: safe CWE-643
# Same finder with XPath variables for both terms.
from dataclasses import dataclass

from flask import Flask, request
from lxml import etree

app = Flask(__name__)
LIBRARY = etree.parse("/srv/app/library.xml")


@dataclass
class BookSearch:
    author: str
    year: str

    def run(self, tree):
        return tree.xpath("//book[author=$a and year=$y]/title/text()", a=self.author, y=self.year)


@app.get("/books")
def books():
    search = BookSearch(request.args.get("author", ""), request.args.get("year", ""))
    return {"titles": search.run(LIBRARY)}
