from django.http import JsonResponse

from . import dao
from .validators import account_number


def account_balance(request):
    number = account_number(request.GET.get("account", ""))
    return JsonResponse({"balance": dao.balance(number)})
