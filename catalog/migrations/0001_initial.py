"""Adopts the catalog's table, which chats' migration 0005 renamed to catalog_aimodel with its
rows (the seed in chats/migrations/0003_seed_catalog.py included): state only, no SQL. Its
constraint keeps the name it was created with until 0002 renames it."""

from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AIModel",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("model_id", models.CharField(help_text="openai/gpt-4o", max_length=200, unique=True, verbose_name="ID модели")),
                        ("name", models.CharField(max_length=200, verbose_name="название")),
                        ("group", models.CharField(max_length=100, verbose_name="группа")),
                        ("group_icon", models.TextField(blank=True, verbose_name="иконка группы (SVG)")),
                        ("kind", models.CharField(choices=[("chat", "чат"), ("image", "изображение"), ("video", "видео")], default="chat", max_length=10, verbose_name="вид")),
                        ("cost_input", models.DecimalField(decimal_places=4, default=Decimal("0"), max_digits=12, verbose_name="вход, $ за 1M токенов")),
                        ("cost_output", models.DecimalField(decimal_places=4, default=Decimal("0"), max_digits=12, verbose_name="выход, $ за 1M токенов")),
                        ("price_per_generation", models.DecimalField(blank=True, decimal_places=2, max_digits=12, null=True, verbose_name="цена генерации, ₽")),
                        ("supports_vision", models.BooleanField(default=False, verbose_name="понимает изображения")),
                        ("context_length", models.PositiveIntegerField(default=8192, verbose_name="контекст, токенов")),
                        ("enabled", models.BooleanField(default=True, verbose_name="включена")),
                        ("group_order", models.PositiveIntegerField(default=0, verbose_name="порядок группы")),
                        ("order", models.PositiveIntegerField(default=0, verbose_name="порядок")),
                    ],
                    options={
                        "verbose_name": "AI-модель",
                        "verbose_name_plural": "AI-модели",
                        "ordering": ["group_order", "group", "order", "name"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("kind", "chat"), models.Q(("price_per_generation__gt", 0), ("price_per_generation__isnull", False)), _connector="OR"),
                                name="chats_media_model_has_price",
                                violation_error_message="Для изображений и видео укажите цену генерации больше нуля.",
                            )
                        ],
                    },
                ),
            ],
        ),
    ]
