from django.db import migrations


class Migration(migrations.Migration):
    """Activity executions become invocations, the one record of every function's runs."""

    dependencies = [("functions", "0003_rename_functionapp_apprecord")]

    operations = [migrations.RenameModel("Execution", "Invocation")]
