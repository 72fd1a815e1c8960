# case: vulnerable CWE-614
# A cart-id cookie is set by a response helper on a Django response without Secure.
from django.http import JsonResponse


def with_cart_cookie(response, cart_id):
    response.set_cookie("cart_session", cart_id, max_age=7 * 86400, httponly=True, samesite="Lax")
    return response


def add_to_cart(request):
    cart_id = request.session.get("cart_id", "new")
    return with_cart_cookie(JsonResponse({"ok": True}), cart_id)
