from allauth.account import views as allauth_views
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import selectors, services
from accounts.forms import DisplayNameForm, EmailSignInForm


@require_POST
def email_sign_in(request):
    """One form for every email: a known one gets a login code, a new one signs up and gets a
    verification code. allauth's own views do the work (codes, attempts, throttling)."""
    if request.user.is_authenticated:
        return redirect("profile")
    form = EmailSignInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Введите правильный адрес электронной почты."))
        return redirect("account_login")
    if services.email_sign_in_prepare(email=form.cleaned_data["email"]):
        return allauth_views.request_login_code(request)
    return allauth_views.signup(request)


@login_required
@require_http_methods(["GET", "POST"])
def profile(request):
    user = request.user
    form = DisplayNameForm(request.POST or None, initial={"name": user.name})
    if request.method == "POST" and form.is_valid():
        services.user_update_name(user=user, name=form.cleaned_data["name"])
        messages.success(request, _("Имя сохранено."))
        return redirect("profile")
    accounts, available = selectors.profile_providers(request=request, user=user)
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            # The seed's profile.html variables but the balance, which the page reads from the
            # wallet the wallets app puts in every page's context (accounts knows no wallets).
            "name": user.name,
            "email": user.email,
            "avatar": user.avatar,
            "social_accounts": accounts,
            "available_providers": available,
        },
    )


@login_required
@require_POST
def session_end(request, session_id: int):
    """Ends one of the user's own sessions; someone else's is a 404."""
    session = get_object_or_404(UserSession, pk=session_id, user=request.user)
    services.usersession_end(request=request, session=session)
    messages.success(request, _("Сеанс завершён."))
    return redirect("usersessions_list")
