"""The ledger is append-only in the database too (PostgreSQL, where production runs): UPDATE
and DELETE of a ledger entry fail with an integrity error, whoever sends them. TRUNCATE, which
only an operator or a test database reset issues, is not a row change and still works.
SQLite (the zero-setup default) relies on the services and the read-only admin alone."""

from django.db import migrations

CREATE = """
CREATE FUNCTION wallets_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wallets_ledgerentry is append-only: % refused', TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER wallets_ledger_append_only
    BEFORE UPDATE OR DELETE ON wallets_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION wallets_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS wallets_ledger_append_only ON wallets_ledgerentry;
DROP FUNCTION IF EXISTS wallets_ledger_append_only();
"""


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0002_hold_wallets_hold_closed_consistently_and_more"),
    ]

    operations = [migrations.RunPython(create, drop)]
