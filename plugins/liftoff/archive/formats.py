"""Archive file formats: JSONL, compressed with gzip or zstd (chosen by `benchmarks/bench_archive.py`).

JSONL keeps whatever landed, dirty rows included (a raw archive has no schema to obey);
the codec is recorded in the key's extension, so every archive stays readable.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import zstandard


@dataclass(frozen=True)
class ArchiveFormat:
    name: str
    extension: str

    def open_write(self, path: Path) -> IO[bytes]:
        if self.name == "jsonl+gzip":
            # gzip's own default level; mtime=0 so the same rows give the same bytes
            return gzip.GzipFile(path, "wb", compresslevel=6, mtime=0)
        return zstandard.ZstdCompressor(level=3).stream_writer(path.open("wb"), closefd=True)

    def open_read(self, path: Path) -> IO[bytes]:
        if self.name == "jsonl+gzip":
            return gzip.open(path, "rb")
        return zstandard.ZstdDecompressor().stream_reader(path.open("rb"), closefd=True)


JSONL_GZIP = ArchiveFormat("jsonl+gzip", "jsonl.gz")
JSONL_ZSTD = ArchiveFormat("jsonl+zstd", "jsonl.zst")
FORMATS = {fmt.name: fmt for fmt in (JSONL_GZIP, JSONL_ZSTD)}
DEFAULT_FORMAT = JSONL_ZSTD


def format_of_key(key: str) -> ArchiveFormat:
    for fmt in FORMATS.values():
        if key.endswith("." + fmt.extension):
            return fmt
    raise ValueError(f"{key}: not an archive part (expected .jsonl.gz or .jsonl.zst)")


def read_lines(fmt: ArchiveFormat, path: Path):
    """The archived rows' JSON lines, decompressed as a stream."""
    import io

    with fmt.open_read(path) as raw, io.TextIOWrapper(raw, encoding="utf-8") as text:
        for line in text:
            if line.strip():
                yield line.rstrip("\n")
