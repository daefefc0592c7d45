from django.db import migrations


class Migration(migrations.Migration):
    """The stored history event is HistoryRow, so that it no longer shares its name with the
    engine's HistoryEvent. A table rename: instant on PostgreSQL and SQLite."""

    dependencies = [
        ("orchestrations", "0005_set_aside_messages"),
    ]

    operations = [
        migrations.RenameModel(old_name="HistoryEvent", new_name="HistoryRow"),
    ]
