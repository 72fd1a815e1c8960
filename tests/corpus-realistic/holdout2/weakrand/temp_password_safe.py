# case: safe CWE-330
# Same reset with secrets.SystemRandom().
import secrets
import string

from django.contrib.auth.models import User
from django.http import JsonResponse


def temporary_password(length=12):
    pool = string.ascii_letters + string.digits + "!@#$%"
    rng = secrets.SystemRandom()
    return "".join(rng.sample(pool, length))


def reset_user_password(request, user_id):
    user = User.objects.get(pk=int(user_id))
    temp = temporary_password()
    user.set_password(temp)
    user.save()
    return JsonResponse({"temporary": temp})
