"""Django settings samples."""
import os

DEBUG = False
# ruleid: py-insecure-session-cookie-setting
SESSION_COOKIE_SECURE = False
# ok: py-insecure-session-cookie-setting
CSRF_COOKIE_SECURE = True
# ruleid: py-hardcoded-secret
SECRET_KEY = "k8#q2!v9Zr@x4LpW7m$T1nB6cY3fH0dJ"
# ok: py-hardcoded-secret
DATABASE_PASSWORD = os.environ["DATABASE_PASSWORD"]
