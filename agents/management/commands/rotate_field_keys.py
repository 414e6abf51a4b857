"""Re-encrypt every ``agent.custom_env`` under the newest key of ``FIELD_ENCRYPTION_KEYS``.

Rotation: put the new key first, run this command, then drop the old key. Batches by primary key,
each in its own transaction with ``SELECT … FOR UPDATE SKIP LOCKED`` (a row being written right
now is left for the next run); rows already under the newest key are skipped, so the command is
resumable after a kill and a second run is a no-op. Works on the raw ciphertext: plaintext never
leaves ``MultiFernet.rotate``.
"""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from agents.fields import rotate_token
from agents.models import Agent


def newest_key_decrypts(token: str, newest: Fernet) -> bool:
    try:
        newest.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


class Command(BaseCommand):
    help = "Re-encrypt agent.custom_env under the newest FIELD_ENCRYPTION_KEYS key (resumable)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int = 500, **options: Any) -> None:
        keys = list(settings.FIELD_ENCRYPTION_KEYS)
        if not keys:
            raise CommandError("FIELD_ENCRYPTION_KEYS is empty")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        newest = Fernet(keys[0].encode() if isinstance(keys[0], str) else keys[0])
        table = Agent._meta.db_table
        total = Agent.objects.filter(custom_env__isnull=False).count()
        last_pk = None
        seen = rotated = skipped = 0
        while True:
            with transaction.atomic(), connection.cursor() as cur:
                where, params = "custom_env IS NOT NULL", []
                if last_pk is not None:
                    where += " AND id > %s"
                    params.append(last_pk)
                cur.execute(
                    f'SELECT id, custom_env FROM "{table}" WHERE {where} '  # noqa: S608
                    "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                    [*params, batch_size],
                )
                rows = cur.fetchall()
                if not rows:
                    break
                for pk, token in rows:
                    seen += 1
                    if not token or newest_key_decrypts(token, newest):
                        skipped += 1
                        continue
                    cur.execute(
                        f'UPDATE "{table}" SET custom_env = %s WHERE id = %s',  # noqa: S608
                        [rotate_token(token), pk],
                    )
                    rotated += 1
                last_pk = rows[-1][0]
            self.stdout.write(
                f"rotate_field_keys: {seen}/{total} rows seen, {rotated} re-encrypted, "
                f"{skipped} already current"
            )
        done = f"rotate_field_keys: done, {rotated} re-encrypted, {skipped} current"
        self.stdout.write(self.style.SUCCESS(done))
