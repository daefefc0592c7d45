from django.db import migrations


class Migration(migrations.Migration):
    """The registry's record of a function app is AppRecord, so that it no longer shares its
    name with the SDK's FunctionApp. A table rename."""

    dependencies = [
        ("functions", "0002_execution_logs"),
    ]

    operations = [
        migrations.RenameModel(old_name="FunctionApp", new_name="AppRecord"),
    ]
