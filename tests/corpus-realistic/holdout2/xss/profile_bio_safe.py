# case: safe CWE-79
# Same helper; each line is escaped before the trusted <br> separators are added.
from flask import Flask, render_template, request
from markupsafe import Markup, escape

app = Flask(__name__)


def render_bio(raw):
    lines = [escape(line) for line in raw.splitlines()]
    return Markup("<br>").join(lines)


@app.route("/profile/preview", methods=["POST"])
def preview_profile():
    bio = render_bio(request.form.get("bio", ""))
    return render_template("profile.html", bio=bio)
