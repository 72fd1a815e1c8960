# case: vulnerable CWE-79
# A profile banner is built as Markup from the display name stored on a small view model.
from flask import Flask, render_template, request
from markupsafe import Markup

app = Flask(__name__)


class Banner:
    def __init__(self, name):
        self.name = name

    def html(self):
        return Markup("<strong>Welcome back, %s!</strong>" % self.name)


@app.route("/home")
def home():
    banner = Banner(request.args.get("name", "friend"))
    return render_template("home.html", banner=banner.html())
