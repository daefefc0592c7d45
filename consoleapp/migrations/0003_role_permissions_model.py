from django.db import migrations, models

CODENAMES = [
    "view_console",
    "start_instance",
    "raise_event",
    "suspend_instance",
    "resume_instance",
    "terminate_instance",
    "rewind_instance",
    "restart_instance",
    "signal_entity",
    "decide_approval",
    "purge_instance",
    "bulk_action",
    "delete_entity",
    "manage_users",
    "manage_api_keys",
]


def drop_permissions_of_the_audit_log(apps, schema_editor):
    """The role permissions hung on AuditLogEntry before: those rows go (and with them the
    groups' links to them); the groups get the new ones after migrate (roles.sync_groups)."""
    permission = apps.get_model("auth", "Permission")
    permission.objects.filter(
        content_type__app_label="consoleapp", content_type__model="auditlogentry", codename__in=CODENAMES
    ).delete()


class Migration(migrations.Migration):
    """Role permissions hang on a model of their own (RolePermissions, no table), no longer on
    the audit log's."""

    dependencies = [
        ('consoleapp', '0002_role_permissions'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.CreateModel(
            name='RolePermissions',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ],
            options={
                'permissions': [('view_console', 'read orchestrations, entities, functions, approvals and the audit log'), ('start_instance', 'start orchestrations'), ('raise_event', 'raise events'), ('suspend_instance', 'suspend instances'), ('resume_instance', 'resume instances'), ('terminate_instance', 'terminate instances'), ('rewind_instance', 'rewind instances'), ('restart_instance', 'restart instances (under a new id; under the same id needs purge)'), ('signal_entity', 'signal entities'), ('decide_approval', 'decide approvals'), ('purge_instance', 'purge instances, or replace a finished one by starting under its id'), ('bulk_action', 'act on many instances at once'), ('delete_entity', 'delete entities'), ('manage_users', 'manage users and their roles'), ('manage_api_keys', 'create and revoke API keys')],
                'managed': False,
                'default_permissions': (),
            },
        ),
        migrations.AlterModelOptions(
            name='auditlogentry',
            options={'ordering': ['-created_at', '-id']},
        ),
        migrations.RunPython(drop_permissions_of_the_audit_log, migrations.RunPython.noop),
    ]
