# case: vulnerable CWE-330
# Team invitation secrets come from a module-level random.Random instance.
import random
import string

_rng = random.Random()


class Invitations:
    def __init__(self):
        self.pending = {}

    def create(self, team_id, email):
        invite_secret = "".join(_rng.choices(string.ascii_uppercase + string.digits, k=16))
        self.pending[invite_secret] = (team_id, email)
        return invite_secret
