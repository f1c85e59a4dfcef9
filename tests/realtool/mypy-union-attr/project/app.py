from typing import Optional


def length(s: Optional[str]) -> int:
    return len(s.strip())
