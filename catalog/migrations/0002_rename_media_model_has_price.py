from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.RemoveConstraint(model_name="aimodel", name="chats_media_model_has_price"),
        migrations.AddConstraint(
            model_name="aimodel",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind", "chat"), models.Q(("price_per_generation__gt", 0), ("price_per_generation__isnull", False)), _connector="OR"),
                name="catalog_media_model_has_price",
                violation_error_message="Для изображений и видео укажите цену генерации больше нуля.",
            ),
        ),
    ]
