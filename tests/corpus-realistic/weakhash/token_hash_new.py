# case: vulnerable CWE-328
# API tokens are stored as hashlib.new("md5") digests chosen through a settings value.
import hashlib

from django.conf import settings

TOKEN_HASH = {"algorithm": "md5"}


def token_digest(token):
    return hashlib.new(TOKEN_HASH["algorithm"], token.encode()).hexdigest()


def store_token(user, token):
    user.api_token_hash = token_digest(token)
    user.save(update_fields=["api_token_hash"])
