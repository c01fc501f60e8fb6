"""Seeds the model catalog: the groups of the old system's AI_MODELS_GROUPS with their SVG icons
and current OpenRouter models (USD per 1M tokens), plus the Fal.ai image and video models at a
RUB price per generation. `manage.py sync_models` keeps prices and context lengths current;
admins edit the rest.

Media models are recognised by the old system's keyword rule (a keyword in the model id makes
it a media model; video keywords make it a video model), so ids keep working as they did.
"""

from decimal import Decimal

from django.db import migrations

MEDIA_KEYWORDS = ["recraft", "flux", "midjourney", "veo", "sora", "luma", "video", "image"]
VIDEO_KEYWORDS = ["veo", "sora", "luma", "video"]


def _icon(path: str) -> str:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" width="20" height="20" '
        f'fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" '
        f'stroke-linejoin="round">{path}</svg>'
    )


ICONS = {
    "OpenAI": _icon(
        '<path d="M12 3a4.5 4.5 0 0 1 4.4 3.6A4.5 4.5 0 0 1 19.8 14 4.5 4.5 0 0 1 14 19.8 '
        '4.5 4.5 0 0 1 6.6 17.4 4.5 4.5 0 0 1 4.2 10 4.5 4.5 0 0 1 8 4.6 4.5 4.5 0 0 1 12 3z"/>'
        '<circle cx="12" cy="12" r="3"/>'
    ),
    "Anthropic": _icon('<path d="M7 20 12 4l5 16"/><path d="M9 14h6"/>'),
    "Google": _icon('<path d="M20 12a8 8 0 1 1-2.3-5.6"/><path d="M20 12h-8"/>'),
    "Meta": _icon('<path d="M3 16c2-9 5-9 9 0s7 9 9 0"/>'),
    "Mistral": _icon('<rect x="4" y="4" width="6" height="6"/><rect x="14" y="4" width="6" height="6"/>'
                     '<rect x="4" y="14" width="6" height="6"/><rect x="14" y="14" width="6" height="6"/>'),
    "DeepSeek": _icon('<path d="M3 13c3 4 9 6 14 3 2-1 4-4 4-7-3 2-6 2-8 0-3-3-8-2-10 4z"/>'
                      '<circle cx="15" cy="10" r="1"/>'),
    "Qwen": _icon('<path d="M12 3 20 8v8l-8 5-8-5V8z"/><path d="M12 8v8"/>'),
    "xAI": _icon('<path d="M5 4l14 16"/><path d="M19 4 5 20"/>'),
    "Другие": _icon('<circle cx="12" cy="12" r="8"/><path d="M8 12h8M12 8v8"/>'),
    "Изображения": _icon('<rect x="3" y="4" width="18" height="16" rx="2"/><circle cx="9" cy="10" r="2"/>'
                         '<path d="m21 17-5-5-9 8"/>'),
    "Видео": _icon('<rect x="3" y="6" width="13" height="12" rx="2"/><path d="m16 10 5-3v10l-5-3z"/>'),
}

# (group, [(model id, display name, $ in, $ out, vision, context length)])
CHAT_MODELS = [
    ("OpenAI", [
        ("openai/gpt-5", "GPT-5", "1.25", "10", True, 400000),
        ("openai/gpt-5-mini", "GPT-5 mini", "0.25", "2", True, 400000),
        ("openai/gpt-5-nano", "GPT-5 nano", "0.05", "0.4", True, 400000),
        ("openai/gpt-4.1", "GPT-4.1", "2", "8", True, 1047576),
        ("openai/gpt-4.1-mini", "GPT-4.1 mini", "0.4", "1.6", True, 1047576),
        ("openai/gpt-4.1-nano", "GPT-4.1 nano", "0.1", "0.4", True, 1047576),
        ("openai/gpt-4o", "GPT-4o", "2.5", "10", True, 128000),
        ("openai/gpt-4o-mini", "GPT-4o mini", "0.15", "0.6", True, 128000),
        ("openai/o3", "o3", "2", "8", True, 200000),
        ("openai/o4-mini", "o4-mini", "1.1", "4.4", True, 200000),
        ("openai/gpt-oss-120b", "gpt-oss-120b", "0.1", "0.5", False, 131072),
    ]),
    ("Anthropic", [
        ("anthropic/claude-sonnet-4.5", "Claude Sonnet 4.5", "3", "15", True, 1000000),
        ("anthropic/claude-opus-4.1", "Claude Opus 4.1", "15", "75", True, 200000),
        ("anthropic/claude-sonnet-4", "Claude Sonnet 4", "3", "15", True, 1000000),
        ("anthropic/claude-haiku-4.5", "Claude Haiku 4.5", "1", "5", True, 200000),
        ("anthropic/claude-3.7-sonnet", "Claude 3.7 Sonnet", "3", "15", True, 200000),
        ("anthropic/claude-3.5-haiku", "Claude 3.5 Haiku", "0.8", "4", False, 200000),
    ]),
    ("Google", [
        ("google/gemini-2.5-pro", "Gemini 2.5 Pro", "1.25", "10", True, 1048576),
        ("google/gemini-2.5-flash", "Gemini 2.5 Flash", "0.3", "2.5", True, 1048576),
        ("google/gemini-2.5-flash-lite", "Gemini 2.5 Flash Lite", "0.1", "0.4", True, 1048576),
        ("google/gemini-2.0-flash-001", "Gemini 2.0 Flash", "0.1", "0.4", True, 1048576),
        ("google/gemma-3-27b-it", "Gemma 3 27B", "0.09", "0.17", True, 131072),
    ]),
    ("Meta", [
        ("meta-llama/llama-4-maverick", "Llama 4 Maverick", "0.15", "0.6", True, 1048576),
        ("meta-llama/llama-4-scout", "Llama 4 Scout", "0.08", "0.3", True, 327680),
        ("meta-llama/llama-3.3-70b-instruct", "Llama 3.3 70B", "0.13", "0.39", False, 131072),
        ("meta-llama/llama-3.1-405b-instruct", "Llama 3.1 405B", "0.8", "0.8", False, 131072),
        ("meta-llama/llama-3.1-8b-instruct", "Llama 3.1 8B", "0.02", "0.03", False, 131072),
    ]),
    ("Mistral", [
        ("mistralai/mistral-medium-3.1", "Mistral Medium 3.1", "0.4", "2", True, 131072),
        ("mistralai/mistral-large-2411", "Mistral Large", "2", "6", False, 131072),
        ("mistralai/mistral-small-3.2-24b-instruct", "Mistral Small 3.2", "0.05", "0.1", True, 131072),
        ("mistralai/codestral-2508", "Codestral", "0.3", "0.9", False, 256000),
        ("mistralai/pixtral-large-2411", "Pixtral Large", "2", "6", True, 131072),
    ]),
    ("DeepSeek", [
        ("deepseek/deepseek-chat-v3.1", "DeepSeek V3.1", "0.2", "0.8", False, 163840),
        ("deepseek/deepseek-v3.2-exp", "DeepSeek V3.2", "0.27", "0.4", False, 163840),
        ("deepseek/deepseek-r1-0528", "DeepSeek R1", "0.5", "2.15", False, 163840),
        ("deepseek/deepseek-r1-distill-llama-70b", "DeepSeek R1 Distill 70B", "0.1", "0.4", False, 131072),
    ]),
    ("Qwen", [
        ("qwen/qwen3-max", "Qwen3 Max", "1.2", "6", False, 256000),
        ("qwen/qwen3-235b-a22b-2507", "Qwen3 235B", "0.12", "0.59", False, 262144),
        ("qwen/qwen3-coder", "Qwen3 Coder", "0.22", "0.95", False, 262144),
        ("qwen/qwen3-32b", "Qwen3 32B", "0.05", "0.2", False, 40960),
        ("qwen/qwen-2.5-72b-instruct", "Qwen2.5 72B", "0.12", "0.39", False, 32768),
        ("qwen/qwen2.5-vl-72b-instruct", "Qwen2.5 VL 72B", "0.25", "0.75", True, 32768),
    ]),
    ("xAI", [
        ("x-ai/grok-4", "Grok 4", "3", "15", True, 256000),
        ("x-ai/grok-4-fast", "Grok 4 Fast", "0.2", "0.5", True, 2000000),
        ("x-ai/grok-3", "Grok 3", "3", "15", False, 131072),
        ("x-ai/grok-3-mini", "Grok 3 mini", "0.3", "0.5", False, 131072),
        ("x-ai/grok-code-fast-1", "Grok Code Fast", "0.2", "1.5", False, 256000),
    ]),
    ("Другие", [
        ("moonshotai/kimi-k2-0905", "Kimi K2", "0.39", "1.9", False, 262144),
        ("perplexity/sonar-pro", "Perplexity Sonar Pro", "3", "15", True, 200000),
        ("perplexity/sonar", "Perplexity Sonar", "1", "1", True, 127072),
    ]),
]

# (group, [(Fal.ai model id, display name, RUB per generation)])
MEDIA_MODELS = [
    ("Изображения", [
        ("fal-ai/flux-pro/v1.1", "FLUX 1.1 [pro]", "12"),
        ("fal-ai/flux-pro/kontext", "FLUX.1 Kontext [pro]", "12"),
        ("fal-ai/flux/dev", "FLUX.1 [dev]", "6"),
        ("fal-ai/flux/schnell", "FLUX.1 [schnell]", "2"),
        ("fal-ai/recraft-v3", "Recraft V3", "10"),
        ("fal-ai/imagen4/preview", "Imagen 4", "10"),
    ]),
    ("Видео", [
        ("fal-ai/veo3", "Veo 3", "350"),
        ("fal-ai/veo3/fast", "Veo 3 Fast", "150"),
        ("fal-ai/sora-2/text-to-video", "Sora 2", "120"),
        ("fal-ai/luma-dream-machine/ray-2", "Luma Ray 2", "90"),
        ("fal-ai/kling-video/v2.1/master/text-to-video", "Kling 2.1 Master", "140"),
        ("fal-ai/minimax/hailuo-02/standard/text-to-video", "Hailuo 02", "50"),
    ]),
]


def kind_of(model_id: str) -> str:
    lowered = model_id.lower()
    if any(keyword in lowered for keyword in VIDEO_KEYWORDS):
        return "video"
    if any(keyword in lowered for keyword in MEDIA_KEYWORDS):
        return "image"
    return "chat"


def seed(apps, schema_editor):
    AIModel = apps.get_model("chats", "AIModel")
    rows = []
    for group_order, (group, models) in enumerate(CHAT_MODELS):
        for order, (model_id, name, cost_in, cost_out, vision, context) in enumerate(models):
            assert kind_of(model_id) == "chat", model_id
            rows.append(
                AIModel(
                    model_id=model_id,
                    name=name,
                    group=group,
                    group_icon=ICONS[group],
                    kind="chat",
                    cost_input=Decimal(cost_in),
                    cost_output=Decimal(cost_out),
                    supports_vision=vision,
                    context_length=context,
                    group_order=group_order,
                    order=order,
                )
            )
    for group_order, (group, models) in enumerate(MEDIA_MODELS, start=len(CHAT_MODELS)):
        for order, (model_id, name, price) in enumerate(models):
            rows.append(
                AIModel(
                    model_id=model_id,
                    name=name,
                    group=group,
                    group_icon=ICONS[group],
                    kind=kind_of(model_id),
                    price_per_generation=Decimal(price),
                    group_order=group_order,
                    order=order,
                )
            )
    # A row an admin already added under the same id wins.
    AIModel.objects.bulk_create(rows, ignore_conflicts=True)


def unseed(apps, schema_editor):
    AIModel = apps.get_model("chats", "AIModel")
    seeded = [model[0] for _, models in CHAT_MODELS + MEDIA_MODELS for model in models]
    AIModel.objects.filter(model_id__in=seeded).delete()


class Migration(migrations.Migration):
    dependencies = [("chats", "0002_message_image_urls")]

    operations = [migrations.RunPython(seed, unseed)]
