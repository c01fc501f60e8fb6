"""Writes for accounts: identities, the profile, the Casdoor mirror and session housekeeping."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta
from importlib import import_module

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.account.models import EmailAddress
from allauth.account.utils import filter_users_by_email
from allauth.usersessions.adapter import get_adapter as get_usersessions_adapter
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.sessions.models import Session
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import ProtectedError
from django.http import HttpRequest
from django.utils import timezone

from accounts import casdoor, tasks
from accounts.models import User
from accounts.signals import user_removing

log = logging.getLogger(__name__)

# Our field -> (Casdoor's JSON field, Casdoor's column name for update-user's `columns`).
CASDOOR_PROFILE_FIELDS = {
    "name": ("displayName", "display_name"),
    "email": ("email", "email"),
    "phone": ("phone", "phone"),
    "avatar": ("avatar", "avatar"),
}


# Identity -------------------------------------------------------------------------------------
def casdoor_id_for_email_signup() -> str:
    """A stable id for an email sign-up: a valid Casdoor user name that reveals nothing about
    the address (random, stored once, never derived again)."""
    return f"email_{secrets.token_hex(8)}"


# What casdoor_id_for_email_signup gives, and nothing else (not an imported `email_…` id).
EMAIL_SIGNUP_ID = re.compile(r"email_[0-9a-f]{16}")


def casdoor_id_for_social(*, provider: str, uid: str) -> str:
    return f"{provider}_{uid}"


@transaction.atomic
def email_sign_in_prepare(*, email: str) -> bool:
    """True when an account uses `email`. An account that has it only on the user row (imported
    from the old system) gets an unverified EmailAddress, which the emailed code then verifies;
    without it allauth would ask for a second, email-verification code after the first."""
    users = filter_users_by_email(email, is_active=True, prefer_verified=True)
    if not users:
        return False
    user = users[0]
    if not EmailAddress.objects.filter(user=user, email__iexact=email).exists():
        has_primary = EmailAddress.objects.filter(user=user, primary=True).exists()
        EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=not has_primary)
    return True


class UserNotFound(Exception):
    pass


@transaction.atomic
def user_staff_grant(*, email: str, superuser: bool = False) -> User:
    """Lets the account that signs in with `email` into admin (with every permission when
    `superuser`). Staff sign in to admin with the site's own sign-in, so this is how the first
    admin is made: sign in once, then grant."""
    users = list(User.objects.filter(email__iexact=email.strip()))
    if len(users) != 1:
        raise UserNotFound(email)
    user = users[0]
    user.is_staff = True
    user.is_superuser = user.is_superuser or superuser
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


def users_unverified_remove() -> int:
    """Deletes the accounts the sign-in form created for addresses nobody confirmed, once they are
    ACCOUNTS_UNVERIFIED_TTL_SECONDS old; returns how many went.

    Typing an unknown address creates a user (allauth's signup) before its code is confirmed;
    without this, every address typed in stays as a row. Only such accounts qualify: an id the
    form gave, no usable password, never signed in (so never mirrored to Casdoor, which happens
    at sign-in), not staff, no provider, no confirmed address. A user whose wallet has any
    history is kept (wallets removes an unused wallet on `user_removing`; a used one protects
    the user).
    """
    cutoff = timezone.now() - timedelta(seconds=settings.ACCOUNTS_UNVERIFIED_TTL_SECONDS)
    candidates = (
        User.objects.filter(
            date_joined__lt=cutoff,
            last_login__isnull=True,
            casdoor_synced_at__isnull=True,
            is_staff=False,
            is_superuser=False,
            casdoor_id__startswith="email_",
            password__startswith=UNUSABLE_PASSWORD_PREFIX,
            emailaddress__isnull=False,
        )
        .exclude(emailaddress__verified=True)
        .exclude(socialaccount__isnull=False)
        .distinct()
    )
    removed = 0
    for user in candidates.iterator():
        if not EMAIL_SIGNUP_ID.fullmatch(user.casdoor_id):
            continue
        try:
            with transaction.atomic():
                user_removing.send(sender=User, user=user)
                user.delete()
        except ProtectedError:
            log.warning("Unverified user %s has wallet history; kept", user.pk)
            continue
        removed += 1
    return removed


# Profile ----------------------------------------------------------------------------------------
@transaction.atomic
def user_update_name(*, user: User, name: str) -> User:
    user.name = name.strip()
    user.save(update_fields=["name"])
    user_casdoor_sync_schedule(user_ids=[user.pk])
    return user


# Casdoor mirror ---------------------------------------------------------------------------------
def user_casdoor_sync_schedule(*, user_ids: list[int]) -> None:
    """Queues the mirror of each user once the current transaction commits."""
    for user_id in user_ids:
        transaction.on_commit(lambda user_id=user_id: tasks.user_sync_to_casdoor.delay(user_id))


def user_sync_to_casdoor(*, user_id: int) -> None:
    """Makes Casdoor hold the user as we do: adds them if missing, else writes only the changed
    columns. Records the outcome on the user; raises CasdoorError for the task to retry.

    No transaction or row lock is held here: the calls to Casdoor are slow I/O.
    """
    user = User.objects.get(pk=user_id)
    if not casdoor.is_configured():
        User.objects.filter(pk=user_id).update(casdoor_sync_error="Casdoor is not configured")
        return
    wanted = {
        json_field: getattr(user, field) or "" for field, (json_field, _) in CASDOOR_PROFILE_FIELDS.items()
    }
    try:
        with casdoor.client() as client:
            existing = client.get_user(user.casdoor_id)
            if existing is None:
                client.add_user(
                    {"name": user.casdoor_id, "signupApplication": settings.CASDOOR_APP_NAME, **wanted}
                )
            else:
                changed = [
                    (json_field, column)
                    for json_field, column in CASDOOR_PROFILE_FIELDS.values()
                    if (existing.get(json_field) or "") != wanted[json_field]
                ]
                if changed:
                    client.update_user(
                        user.casdoor_id,
                        fields={json_field: wanted[json_field] for json_field, _ in changed},
                        columns=[column for _, column in changed],
                    )
    except casdoor.CasdoorError as error:
        User.objects.filter(pk=user_id).update(casdoor_sync_error=str(error)[:2000])
        raise
    User.objects.filter(pk=user_id).update(casdoor_synced_at=timezone.now(), casdoor_sync_error="")


# Email ------------------------------------------------------------------------------------------
def email_deliver_later(*, subject: str, body: str, html: str, from_email: str, to: list[str]) -> None:
    """Queues the message for `email_deliver` once the current transaction commits: SMTP never
    runs inside a request, and a failed send is retried by the task."""
    payload = {"subject": subject, "body": body, "html": html, "from_email": from_email, "to": to}
    transaction.on_commit(lambda: tasks.email_deliver.delay(**payload))


def email_deliver(*, subject: str, body: str, html: str, from_email: str, to: list[str]) -> None:
    message = EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


# Sessions ---------------------------------------------------------------------------------------
def usersession_end(*, request: HttpRequest, session: UserSession) -> None:
    """Ends one session of the signed-in user (the caller checked ownership)."""
    if session.is_current():
        get_account_adapter(request).logout(request)
    get_usersessions_adapter().end_sessions([session])


def sessions_cleanup() -> int:
    """Deletes expired sessions and their usersessions rows; returns how many sessions went.

    The database is the store of record for both session engines we use (`db`, `cached_db`);
    cached copies are dropped too so an expired session cannot come back from the cache.
    """
    # The store's own attribute: our engine (config.sessions) subclasses cached_db's store and
    # has no module-level KEY_PREFIX, so reading the module found none on Redis.
    cache_prefix = getattr(import_module(settings.SESSION_ENGINE).SessionStore, "cache_key_prefix", None)
    expired = list(
        Session.objects.filter(expire_date__lt=timezone.now()).values_list("session_key", flat=True)
    )
    removed = 0
    for start in range(0, len(expired), 500):
        keys = expired[start : start + 500]
        with transaction.atomic():
            removed += Session.objects.filter(session_key__in=keys, expire_date__lt=timezone.now()).delete()[
                0
            ]
            UserSession.objects.filter(session_key__in=keys).delete()
        if cache_prefix:
            from django.core.cache import caches

            caches[settings.SESSION_CACHE_ALIAS].delete_many([cache_prefix + key for key in keys])
    # Rows whose session is gone for another reason (signed out elsewhere, engine switched).
    UserSession.objects.exclude(session_key__in=Session.objects.values("session_key")).delete()
    return removed
