# case: vulnerable CWE-79
# The search page echoes the query in an HTML response built by a helper.
from flask import Flask, make_response, request

app = Flask(__name__)


def page(title, body):
    return "<html><head><title>%s</title></head><body>%s</body></html>" % (title, body)


@app.route("/search")
def search():
    query = request.args.get("q", "")
    body = "<h1>Results for " + query + "</h1><p>No results.</p>"
    resp = make_response(page("Search", body))
    resp.headers["Content-Type"] = "text/html; charset=utf-8"
    return resp
