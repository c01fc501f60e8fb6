"""Media no longer points at chats: the chat message points at its generation instead
(chats.Message.generation, filled from these columns by chats' migration 0006, which runs
first)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("media", "0001_initial")]

    operations = [
        migrations.RemoveField(model_name="generation", name="chat"),
        migrations.RemoveField(model_name="generation", name="message"),
    ]
