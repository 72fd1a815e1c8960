"""Hard-coded secret samples (py-hardcoded-secret)."""
import os

import requests

# ruleid: py-hardcoded-secret
STRIPE_API_KEY = "rk_prod_51HbQx2Lk9ZpT8wVnR4mYc7s"
# ok: py-hardcoded-secret
TOKEN_URL = "https://auth.example.com/oauth/token"
# ok: py-hardcoded-secret
PASSWORD_FIELD = "password"
# ok: py-hardcoded-secret
API_KEY = os.environ.get("API_KEY", "")
# ok: py-hardcoded-secret
DEFAULT_PASSWORD = "changeme-please"
# ok: py-hardcoded-secret
token_type = "bearer"


def fetch(session: requests.Session):
    # ruleid: py-hardcoded-secret
    return session.get("https://api.example.com", auth=("svc", "x"), headers={"token": "Qm9x8TzLr2VhW5kPcN7d"})


def connect(db):
    # ruleid: py-hardcoded-secret
    return db.connect(host="db.internal", user="app", password="s3cR3t-P4ssw0rd!2024")


def connect_env(db):
    # ok: py-hardcoded-secret
    return db.connect(host="db.internal", user="app", password=os.environ["DB_PASSWORD"])
