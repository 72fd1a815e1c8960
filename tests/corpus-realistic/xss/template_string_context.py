# case: safe CWE-79
# The title is passed as a template variable, so Jinja autoescapes it.
from flask import Flask, render_template_string, request

app = Flask(__name__)
CARD = "<div class='card'><h2>{{ title }}</h2>{{ body }}</div>"


@app.route("/card")
def card():
    title = request.args.get("title", "Untitled")
    return render_template_string(CARD, title=title, body="Nothing here yet.")
