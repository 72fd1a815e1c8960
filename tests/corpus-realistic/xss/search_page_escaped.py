# case: safe CWE-79
# The same page; the query goes through html.escape in a formatting helper.
import html

from flask import Flask, make_response, request

app = Flask(__name__)


def page(title, body):
    return "<html><head><title>%s</title></head><body>%s</body></html>" % (title, body)


def heading(text):
    return "<h1>Results for " + html.escape(text) + "</h1>"


@app.route("/search")
def search():
    query = request.args.get("q", "")
    resp = make_response(page("Search", heading(query) + "<p>No results.</p>"))
    resp.headers["Content-Type"] = "text/html; charset=utf-8"
    return resp
