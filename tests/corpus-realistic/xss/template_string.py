# case: vulnerable CWE-79
# A "card" endpoint puts the title into the template text itself before rendering.
from flask import Flask, render_template_string, request

app = Flask(__name__)
CARD = "<div class='card'><h2>%s</h2>{{ body }}</div>"


@app.route("/card")
def card():
    title = request.args.get("title", "Untitled")
    return render_template_string(CARD % title, body="Nothing here yet.")
