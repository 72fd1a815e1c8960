# case: vulnerable CWE-643
# A book finder keeps search terms on a dataclass and builds the XPath with join.
from dataclasses import dataclass

from flask import Flask, request
from lxml import etree

app = Flask(__name__)
LIBRARY = etree.parse("/srv/app/library.xml")


@dataclass
class BookSearch:
    author: str
    year: str

    def expression(self):
        conditions = ["author='%s'" % self.author, "year='%s'" % self.year]
        return "//book[" + " and ".join(conditions) + "]/title/text()"


@app.get("/books")
def books():
    search = BookSearch(request.args.get("author", ""), request.args.get("year", ""))
    return {"titles": LIBRARY.xpath(search.expression())}
