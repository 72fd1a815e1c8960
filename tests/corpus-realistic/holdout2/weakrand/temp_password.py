# case: vulnerable CWE-330
# Admins reset a user's password to a temporary one generated with random.sample.
import random
import string

from django.contrib.auth.models import User
from django.http import JsonResponse


def temporary_password(length=12):
    pool = string.ascii_letters + string.digits + "!@#$%"
    return "".join(random.sample(pool, length))


def reset_user_password(request, user_id):
    user = User.objects.get(pk=int(user_id))
    temp = temporary_password()
    user.set_password(temp)
    user.save()
    return JsonResponse({"temporary": temp})
