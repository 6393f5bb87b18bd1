"""Create the staff groups (support, billing) with the permissions that exist at this point.

Permissions are created after migrations run, so on a fresh database the groups start empty and
the post_migrate sync (console.roles.sync_after_migrate) grants them at the end of the same migrate.
"""

from django.db import migrations


def create_groups(apps, schema_editor):
    from console.roles import sync_staff_groups

    sync_staff_groups(
        using=schema_editor.connection.alias,
        group_model=apps.get_model("auth", "Group"),
        permission_model=apps.get_model("auth", "Permission"),
    )


def remove_groups(apps, schema_editor):
    from console.roles import GROUPS

    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("console", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
