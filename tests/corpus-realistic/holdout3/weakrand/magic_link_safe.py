# case: safe CWE-330
# Same link builder with secrets.token_urlsafe; random only picks the greeting.
import random
import secrets

from django.core.mail import send_mail

GREETINGS = ["Hi", "Hello", "Welcome back"]


class MagicLink:
    base = "https://app.example.com/magic/"

    def __init__(self, user):
        self.user = user
        self.nonce = secrets.token_urlsafe(24)
        self.greeting = random.choice(GREETINGS)

    def url(self):
        return self.base + self.nonce


def send_magic_link(user):
    link = MagicLink(user)
    send_mail("Sign in", link.greeting + ", " + link.url(), "noreply@example.com", [user.email])
    return link.nonce
