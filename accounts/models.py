from allauth.usersessions.models import UserSession
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, casdoor_id: str, email: str = "", password: str | None = None, **fields):
        if not casdoor_id:
            raise ValueError("casdoor_id is required")
        user = self.model(casdoor_id=casdoor_id, email=self.normalize_email(email or ""), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, casdoor_id: str, email: str = "", password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(casdoor_id, email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in here, mirrored into Casdoor under `casdoor_id`.

    `casdoor_id` is `"{provider}_{uid}"` from the first way the person signed up (`vk_123456`,
    `telegram_987`, `email_<opaque>`); it is their user name in Casdoor and never changes.
    """

    casdoor_id = models.CharField(_("ID в Casdoor"), max_length=100, unique=True)
    name = models.CharField(_("имя"), max_length=150, blank=True)
    # Not unique: VK and Telegram may give no email, and an unverified email must not claim
    # somebody else's account. allauth's EmailAddress rows hold the verified addresses.
    email = models.EmailField(_("почта"), blank=True, db_index=True)
    avatar = models.URLField(_("аватар"), max_length=1000, blank=True)
    phone = models.CharField(_("телефон"), max_length=32, blank=True)
    is_staff = models.BooleanField(_("сотрудник"), default=False)
    is_active = models.BooleanField(_("активен"), default=True)
    date_joined = models.DateTimeField(_("дата регистрации"), default=timezone.now)
    casdoor_synced_at = models.DateTimeField(_("синхронизирован с Casdoor"), null=True, blank=True)
    casdoor_sync_error = models.TextField(_("ошибка синхронизации с Casdoor"), blank=True)

    objects = UserManager()

    USERNAME_FIELD = "casdoor_id"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("пользователь")
        verbose_name_plural = _("пользователи")

    def __str__(self) -> str:
        return self.name or self.email or self.casdoor_id

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class DeviceSession(UserSession):
    """allauth's record of a signed-in device, under a Russian name in admin (allauth's model
    names nothing, so Django would call it «user sessions»)."""

    class Meta:
        proxy = True
        verbose_name = _("сеанс")
        verbose_name_plural = _("сеансы")
