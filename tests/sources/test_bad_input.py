"""The importer contract (medcodes/sources/__init__.py), for every importer at once: a file that is
none of its formats is a SourceError naming that file, never another exception, never a hang, never
a quietly empty import. Each importer's own tests check the messages for its formats' specific faults.
"""

from __future__ import annotations

import gzip
import io
import signal
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from medcodes.errors import SourceError
from medcodes.sources import IMPORTERS, reader


def _zip_without_a_code_file() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "Nothing to import here.\n")
    return out.getvalue()


_GZIPPED = gzip.compress(b"A00\tCholera\n" * 2000, mtime=0)  # the same bytes every run
BAD_FILES: dict[str, bytes] = {
    "empty.txt": b"",
    "binary.dat": bytes(range(256)) * 8,
    "letter.txt": b"Dear reader,\nthis is not a code file.\n",
    "truncated.txt.gz": _GZIPPED[:len(_GZIPPED) // 2],
    "unrelated.zip": _zip_without_a_code_file(),
    "unclosed.xml": b"<?xml version='1.0'?><ICD10CM.tabular><chapter><name>1</name>",
    "unclosed-quote.csv": b'code,title\nA00,"no closing quote\n',
    # a carriage return inside a field, as in binary or mangled text: the csv module's own error
    "carriage-return.csv": b"code,title\rA00,Cholera\n",
}


@pytest.fixture()
def deadline() -> Iterator[None]:
    """Fail, rather than hang the run, when an importer never finishes on a bad file."""
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError("the importer did not finish within 30 s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("name", sorted(IMPORTERS))
@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_a_file_of_no_known_format_is_a_source_error_naming_it(name: str, kind: str, tmp_path: Path,
                                                               deadline: None) -> None:
    path = tmp_path / kind
    path.write_bytes(BAD_FILES[kind])
    with pytest.raises(SourceError) as caught:
        for _ in reader(name)(path):
            pass
    assert caught.value.path == str(path) and str(path) in str(caught.value)
    assert caught.value.detail.strip()
