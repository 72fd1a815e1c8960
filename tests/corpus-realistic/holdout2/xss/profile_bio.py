# case: vulnerable CWE-79
# A profile page renders the bio with |safe semantics by wrapping it in Markup in a view helper.
from flask import Flask, render_template, request
from markupsafe import Markup

app = Flask(__name__)


def render_bio(raw):
    lines = raw.splitlines()
    return Markup("<br>".join(lines))


@app.route("/profile/preview", methods=["POST"])
def preview_profile():
    bio = render_bio(request.form.get("bio", ""))
    return render_template("profile.html", bio=bio)
