"""A chat message that shows a generation points at it (Message.generation), instead of the
generation pointing at the message and its chat: media stops knowing about chats. 0007 copies
the existing links before media's migration 0002 drops the old columns."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0005_move_aimodel_to_catalog"),
        ("media", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="generation",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="chat_message",
                to="media.generation",
                verbose_name="генерация",
            ),
        ),
    ]
