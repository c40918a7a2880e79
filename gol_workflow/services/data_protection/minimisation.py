"""What the audit log keeps of texts a person typed that may name someone: that there was one, never the text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WITHHELD = "(testo non registrato)"


def without_texts(values: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The values with those keys' texts replaced by a mark (search boxes: names, codici fiscali)."""
    return {k: (WITHHELD if k in keys and v else v) for k, v in values.items()}
