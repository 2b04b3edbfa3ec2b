"""The prepared reads of a publish: the next chunk read, cut, counted and hashed
in a thread while the current one uploads.

Uploading is mostly waiting for the object store's answer; reading, counting
and hashing (which releases the GIL) fit in that wait. With one upload at a
time, two chunks at most are held: the one being uploaded and the next; with
several in flight, none is read ahead (`prepared` without `ahead`).
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from logsvc.storage.base import md5_hex

#: A chunk ready to upload: its offset in the file, its bytes, its lines, its MD5.
Prepared = tuple[int, bytearray, int, str]


def prepared(chunks: Iterator[tuple[int, bytearray]], ahead: bool = True) -> Iterator[Prepared]:
    """(offset, bytes, lines, MD5) of each of `chunks`, the next one prepared meanwhile.

    An error of `chunks` comes at its turn. Closing the iterator lets the read
    under way finish and starts no other: once `close` returns, nothing reads
    the file any more (an upload that fails closes the chunks before the file).
    Without `ahead`, each chunk is prepared when it is asked for, in the
    caller's thread: with several uploads in flight the others keep the
    object store busy meanwhile, and one chunk less is held.
    """

    def prepare() -> Prepared | None:
        chunk = next(chunks, None)
        if chunk is None:
            return None
        pos, data = chunk
        return pos, data, data.count(b"\n"), md5_hex(data)

    if not ahead:
        while (chunk := prepare()) is not None:
            yield chunk
            del chunk
        return
    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as pool:
        upcoming = pool.submit(prepare)
        while (chunk := upcoming.result()) is not None:
            upcoming = pool.submit(prepare)
            yield chunk
            del chunk
