# case: vulnerable CWE-79
# Notifications are rendered to HTML by a formatter class and returned from a Flask view.
from flask import Flask, request

app = Flask(__name__)


class NotificationFormatter:
    template = "<li class='note'>{author}: {text}</li>"

    def render(self, items):
        return "<ul>" + "".join(self.template.format(**item) for item in items) + "</ul>"


@app.post("/notifications/preview")
def preview():
    items = [{"author": "you", "text": request.form.get("text", "")}]
    return NotificationFormatter().render(items)
