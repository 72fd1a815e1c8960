# case: safe CWE-330
# Same invitations with secrets.choice.
import secrets
import string


class Invitations:
    def __init__(self):
        self.pending = {}

    def create(self, team_id, email):
        alphabet = string.ascii_uppercase + string.digits
        invite_secret = "".join(secrets.choice(alphabet) for _ in range(16))
        self.pending[invite_secret] = (team_id, email)
        return invite_secret
