"""What ``tail`` prints, to compare readers with: in Python, and the real command."""

import subprocess
import tempfile


def lines_of(data: bytes) -> list[bytes]:
    """The lines of `data` as tail sees them: b"\\n" ends a line; a last one may lack it."""
    parts = data.split(b"\n")
    lines = [p + b"\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def reference(data: bytes, n: int) -> bytes:
    """``tail -n N`` for N > 0, ``tail -n +(|N|+1)`` for N < 0, everything for 0."""
    if n == 0:
        return data
    # lines[-n:]: the last n lines for n > 0, and past the first |n| lines for n < 0
    return b"".join(lines_of(data)[-n:])


def real_tail(path: str, n: int) -> bytes:
    """The system's ``tail`` on the file `path`, with the reader's meaning of N."""
    arg = str(n) if n > 0 else f"+{-n + 1}"
    return subprocess.run(["tail", "-n", arg, path], check=True, capture_output=True).stdout


def real_tail_of(data: bytes, n: int) -> bytes:
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        return real_tail(f.name, n)
