from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('wallets', '0001_initial'),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind__in', ['topup', 'bonus']), _negated=True), ('amount__gt', 0), _connector='OR'), name='wallets_entry_credit_kinds_positive'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'charge'), _negated=True), ('amount__lt', 0), _connector='OR'), name='wallets_entry_charge_negative'),
        ),
        migrations.AddConstraint(
            model_name='hold',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('charged__isnull', True), ('closed_at__isnull', True), ('status', 'open')), models.Q(models.Q(('status', 'open'), _negated=True), ('charged__isnull', False), ('closed_at__isnull', False)), _connector='OR'), name='wallets_hold_closed_consistently'),
        ),
        migrations.AddConstraint(
            model_name='hold',
            constraint=models.CheckConstraint(condition=models.Q(('entry__isnull', True), ('status', 'settled'), _connector='OR'), name='wallets_hold_entry_only_when_settled'),
        ),
    ]
