"""A chat message that shows a generation points at it (Message.generation), instead of the
generation pointing at the message and its chat: media stops knowing about chats. The existing
links are copied before media's migration 0002 drops the old columns."""

import django.db.models.deletion
from django.db import migrations, models


def link_messages(apps, schema_editor):
    Generation = apps.get_model("media", "Generation")
    Message = apps.get_model("chats", "Message")
    for generation_id, message_id in Generation.objects.exclude(message=None).values_list("pk", "message_id"):
        Message.objects.filter(pk=message_id).update(generation_id=generation_id)


def unlink_messages(apps, schema_editor):
    Generation = apps.get_model("media", "Generation")
    Message = apps.get_model("chats", "Message")
    for message in Message.objects.exclude(generation=None).only("pk", "chat_id", "generation_id"):
        Generation.objects.filter(pk=message.generation_id).update(message=message.pk, chat=message.chat_id)


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0005_move_aimodel_to_catalog"),
        ("media", "0001_initial"),
    ]
    # The old columns must still be there to copy from.
    run_before = [("media", "0002_remove_generation_chat_and_message")]

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
        migrations.RunPython(link_messages, unlink_messages),
    ]
