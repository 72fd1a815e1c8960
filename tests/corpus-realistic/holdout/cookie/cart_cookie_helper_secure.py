# case: safe CWE-614
# Same helper with the Secure flag.
from django.http import JsonResponse


def with_cart_cookie(response, cart_id):
    response.set_cookie(
        "cart_session", cart_id, max_age=7 * 86400, secure=True, httponly=True, samesite="Lax"
    )
    return response


def add_to_cart(request):
    cart_id = request.session.get("cart_id", "new")
    return with_cart_cookie(JsonResponse({"ok": True}), cart_id)
