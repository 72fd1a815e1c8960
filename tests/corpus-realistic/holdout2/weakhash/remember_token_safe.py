# case: safe CWE-328
# Avatar URLs use the MD5 of the e-mail, as the Gravatar protocol requires; no secret involved.
import hashlib


def avatar_url(email, size=80):
    digest = hashlib.md5(email.strip().lower().encode()).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?s={size}"
