"""allauth adapters: who a new user is (`casdoor_id`, profile fields) and how mail leaves.

Identity rules: `casdoor_id` comes from the first way a person signed up (`vk_123`,
`telegram_987`, `email_<random>`) and never changes. Profile fields come from the provider. A
new social login whose email the provider does not vouch for must not claim an account that
already uses that email, so such an email is dropped and the sign-up goes on without it.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.models import EmailAddress
from allauth.core import context as allauth_context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from allauth.socialaccount.providers.base import AuthProcess
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.loader import render_to_string

from accounts import services
from accounts.models import User
from config.net import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def new_user(self, request: HttpRequest) -> User:
        user = super().new_user(request)
        # Email sign-ups keep this; a social sign-up replaces it in populate_user.
        user.casdoor_id = services.casdoor_id_for_email_signup()
        return user

    def get_client_ip(self, request: HttpRequest) -> str:
        """The address allauth's per-IP limits count (and user sessions record): the client's as
        our proxy saw it. allauth's own reads REMOTE_ADDR, which behind Caddy is Caddy's for every
        visitor: the whole site would share one budget."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("Unable to determine client IP address")
        return ip

    def format_email_subject(self, subject: str) -> str:
        return f"{settings.SITE_NAME}: {subject}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Renders now (the context holds the request) and sends from a Celery task with retries,
        after the transaction commits: SMTP never runs inside the request. Every mail names the
        site (templates/account/email/) and has a plain-text and an HTML part."""
        request = context.get("request") or allauth_context.request
        context = {
            "request": request,
            "email": email,
            "current_site": get_current_site(request),
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
            "code_minutes": settings.EMAIL_CODE_TIMEOUT // 60,
            **context,
        }
        message = self.render_mail(template_prefix, email, context)
        html = next(
            (
                content
                for content, mimetype in getattr(message, "alternatives", [])
                if mimetype == "text/html"
            ),
            "",
        )
        if not html and message.content_subtype == "plain":
            # A mail we wrote no HTML template for still gets an HTML part: its text in our frame.
            html = render_to_string(
                "account/email/text_as_html.html", {**context, "text": message.body}, request
            )
        services.email_deliver_later(
            subject=message.subject,
            body=message.body if message.content_subtype == "plain" else "",
            html=html or (message.body if message.content_subtype == "html" else ""),
            from_email=message.from_email,
            to=list(message.to),
        )


def _full_name(*parts: str | None) -> str:
    return " ".join(part.strip() for part in parts if part and part.strip())


def profile_from_provider(provider: str, data: dict) -> dict[str, str]:
    """Name, avatar and phone from a provider's profile answer (email is allauth's job)."""
    if provider == "vk":
        return {
            "name": _full_name(data.get("first_name"), data.get("last_name")),
            "avatar": data.get("avatar") or data.get("photo_big") or data.get("photo_medium") or "",
            "phone": str(data.get("phone") or ""),
        }
    if provider == "google":
        return {
            "name": data.get("name") or _full_name(data.get("given_name"), data.get("family_name")),
            "avatar": data.get("picture") or "",
            "phone": "",
        }
    if provider == "yandex":
        avatar_id = data.get("default_avatar_id")
        has_avatar = avatar_id and not data.get("is_avatar_empty")
        return {
            "name": data.get("real_name")
            or _full_name(data.get("first_name"), data.get("last_name"))
            or data.get("display_name")
            or "",
            "avatar": f"https://avatars.yandex.net/get-yapic/{avatar_id}/islands-200" if has_avatar else "",
            "phone": (data.get("default_phone") or {}).get("number", ""),
        }
    if provider == "telegram":
        return {
            "name": _full_name(data.get("first_name"), data.get("last_name")) or data.get("username") or "",
            "avatar": data.get("photo_url") or "",
            "phone": "",
        }
    return {"name": "", "avatar": "", "phone": ""}


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict) -> User:
        user = super().populate_user(request, sociallogin, data)
        account = sociallogin.account
        profile = profile_from_provider(account.provider, account.extra_data)
        user.name = profile["name"][:150]
        user.avatar = profile["avatar"][:1000]
        user.phone = profile["phone"][:32]
        user.casdoor_id = services.casdoor_id_for_social(provider=account.provider, uid=account.uid)
        return user

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        if sociallogin.is_existing or sociallogin.state.get("process") == AuthProcess.CONNECT:
            return
        account = sociallogin.account
        owner = User.objects.filter(
            casdoor_id=services.casdoor_id_for_social(provider=account.provider, uid=account.uid)
        ).first()
        if owner is not None:
            # This provider account is the one the user first signed up with (imported from the
            # old system, or disconnected since): only it can have produced that casdoor_id.
            sociallogin.connect(request, owner)
            return
        taken = {
            address.email
            for address in sociallogin.email_addresses
            if not address.verified
            and (
                EmailAddress.objects.filter(email__iexact=address.email).exists()
                or User.objects.filter(email__iexact=address.email).exists()
            )
        }
        if taken:
            sociallogin.email_addresses = [a for a in sociallogin.email_addresses if a.email not in taken]
            if sociallogin.user.email in taken:
                sociallogin.user.email = ""
