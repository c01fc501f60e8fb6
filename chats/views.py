"""The chat's pages: the chat itself and the price list. The JSON API is chats.api, the streamed
reply chats.stream."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from chats import catalog, selectors
from media import selectors as media
from wallets import selectors as wallets


def _opened_chat(request: HttpRequest) -> int | None:
    """The chat `?chat=<id>` names (links to a chat point here), if it is the user's own."""
    chat_id = request.GET.get("chat", "")
    if not chat_id.isdigit():
        return None
    return selectors.user_chats(user=request.user).filter(pk=chat_id).values_list("pk", flat=True).first()


@login_required
@require_GET
def chat_page(request: HttpRequest) -> HttpResponse:
    """The chat: the old template's variables (name, email, balance, avatar, user_id)."""
    user = request.user
    balance = wallets.balance_of(user_id=user.pk)
    groups = catalog.page_groups()
    return render(
        request,
        "chats/chat.html",
        {
            "name": user.name,
            "email": user.email,
            "balance": int(balance),
            "avatar": user.avatar,
            "user_id": user.casdoor_id,
            "chat_config": {
                "catalog": groups,
                "default_model": catalog.default_model_id(groups),
                "topup_url": reverse("topup"),
                "balance": str(balance),
                "chat": _opened_chat(request),
                "max_images": settings.CHAT_MAX_IMAGES,
                # Pictures in replies show inline only from under this address (chat.js).
                "media_base": media.public_media_base(),
                "max_chars": settings.CHAT_MAX_MESSAGE_CHARS,
                "i18n": {
                    "untitled": _("Без названия"),
                    "per_answer": _("≈ %(price)s за ответ"),
                    "per_generation": _("%(price)s за генерацию"),
                    "context": _("контекст %(context)s токенов"),
                    "media_details": _("оплата за каждую генерацию"),
                    "badge_vision": _("зрение"),
                    "badge_image": _("картинки"),
                    "badge_video": _("видео"),
                    "recent": _("Недавние"),
                    "choose_model": _("Выберите модель"),
                    "network": _("Нет связи с сервером. Проверьте подключение и попробуйте ещё раз."),
                    "stopped": _("Остановлено"),
                    "cost": _("%(cost)s · %(tokens_in)s → %(tokens_out)s токенов"),
                    "cost_pending": _("стоимость уточняется"),
                    "sections": {
                        "today": _("Сегодня"),
                        "yesterday": _("Вчера"),
                        "week": _("За неделю"),
                        "earlier": _("Ранее"),
                    },
                    "generating": _("Генерация запущена: результат появится в чате и в галерее."),
                    "you": _("Вы"),
                    "image": _("изображение"),
                    "code": _("код"),
                    "copy": _("Копировать"),
                    "copied": _("Скопировано"),
                    "edit": _("Изменить"),
                    "regenerate": _("Ответить заново"),
                    "retry": _("Повторить"),
                    "cancel": _("Отмена"),
                    "send_edited": _("Отправить"),
                    "failed": _("Ошибка модели"),
                    "no_vision": _(
                        "Эта модель не понимает изображения: выберите модель с пометкой «зрение», "
                        "чтобы приложить картинку."
                    ),
                    "typical": _("Обычный ответ модели %(model)s стоит около %(price)s"),
                    "per_generation_of": _("Одна генерация моделью %(model)s стоит %(price)s"),
                    "examples": [
                        _("Объясни простыми словами, как работает ипотека"),
                        _("Напиши вежливое письмо с просьбой перенести встречу"),
                        _("Составь план тренировок на неделю для новичка"),
                        _("Найди ошибку в коде и объясни её"),
                    ],
                },
            },
        },
    )


@require_GET
def pricing(request: HttpRequest) -> HttpResponse:
    """Every enabled model's price in RUB and how stopped and failed replies are billed."""
    groups = catalog.page_groups()
    return render(
        request,
        "chats/pricing.html",
        {
            "chat_groups": catalog.of_kind(groups, chat=True),
            "media_groups": catalog.of_kind(groups, chat=False),
            "min_completion_tokens": settings.CHAT_MIN_COMPLETION_TOKENS,
            "max_completion_tokens": settings.CHAT_MAX_COMPLETION_TOKENS,
        },
    )
