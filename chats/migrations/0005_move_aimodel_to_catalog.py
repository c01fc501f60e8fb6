"""The catalog moves to its own app (catalog.AIModel): the table is renamed and kept with its
rows; chats forgets the model, catalog's first migration takes it over. Admin permissions and
log entries follow through the content type."""

from django.db import migrations


def content_type_to_catalog(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="chats", model="aimodel").update(app_label="catalog")


def content_type_to_chats(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="catalog", model="aimodel").update(app_label="chats")


class Migration(migrations.Migration):
    dependencies = [
        ("chats", "0004_media_model_price_not_null"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    # catalog's first migration adopts the table this one hands over.
    run_before = [("catalog", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="aimodel", table="catalog_aimodel")],
            state_operations=[migrations.DeleteModel(name="AIModel")],
        ),
        migrations.RunPython(content_type_to_catalog, content_type_to_chats),
    ]
