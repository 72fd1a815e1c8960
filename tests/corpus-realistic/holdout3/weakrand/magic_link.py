# case: vulnerable CWE-330
# Magic login links carry a nonce made from random.random in a link builder.
import random

from django.core.mail import send_mail


class MagicLink:
    base = "https://app.example.com/magic/"

    def __init__(self, user):
        self.user = user
        self.nonce = str(random.random())[2:]

    def url(self):
        return self.base + self.nonce


def send_magic_link(user):
    link = MagicLink(user)
    send_mail("Sign in", link.url(), "noreply@example.com", [user.email])
    return link.nonce
