"""Where messages go when no mail server or SMS gateway is set (the one-process run): a folder.

Each message is a file named by its delivery id (`.eml` for e-mail, `.json` for SMS), so sending
it again replaces it instead of adding a second one. Open the `.eml` files with any mail program.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from services.notify.adapters.channels import OutgoingMessage, TransientFailure
from services.notify.adapters.channels.email import as_smtp_bytes, build_email

log = logging.getLogger(__name__)


class FolderChannel:
    """Keeps each message as a file instead of sending it, and says so in the log."""

    def __init__(self, folder: Path, kind: str, sender: str = "", sender_name: str = ""):
        self.folder = folder
        self.kind = kind  # "email" or "sms"
        self.sender = sender
        self.sender_name = sender_name

    def send(self, message: OutgoingMessage) -> str:
        if self.kind == "email":
            path, content = (
                self.folder / f"{message.delivery_id}.eml",
                as_smtp_bytes(build_email(message, self.sender, self.sender_name)),
            )
        else:
            path = self.folder / f"{message.delivery_id}.json"
            content = json.dumps(
                {"phone": message.address, "text": message.sms, "params": message.params},
                ensure_ascii=False,
                indent=2,
            ).encode()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.write_bytes(content)
            os.replace(partial, path)  # whole or not at all
        except OSError as exc:
            raise TransientFailure(f"cannot write {path}: {exc}") from exc
        log.info("%s kept in %s (no server configured)", self.kind, path)
        return f"kept in {path} (no server configured)"

    def close(self) -> None:
        pass
