"""Create the staff groups (support, billing) and grant them every permission that exists now."""

from typing import Any

from django.core.management.base import BaseCommand

from console.roles import sync_staff_groups


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args: Any, **options: Any) -> None:
        for name, count in sync_staff_groups().items():
            self.stdout.write(f"{name}: {count} permissions")
