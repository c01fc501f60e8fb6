"""Copies each generation's chat message link onto the message (Message.generation), while
media's old columns are still there; reversed, copies it back. A migration of its own: on
PostgreSQL, rows changed under deferred foreign keys cannot be followed by a schema change in
the same transaction."""

from django.db import migrations


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
        ("chats", "0006_message_generation"),
        ("media", "0001_initial"),
    ]
    # The old columns must still be there to copy from.
    run_before = [("media", "0002_remove_generation_chat_and_message")]

    operations = [migrations.RunPython(link_messages, unlink_messages)]
