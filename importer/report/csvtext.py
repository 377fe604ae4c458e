"""CSV text from pyarrow columns, byte for byte what csv.writer writes, without a loop per row.

    fields = [csv_fields(column) for column in columns]   # str() of each value, quoted when needed
    out.write(csv_lines(fields))                          # "a,b,...\\r\\n" per row, as UTF-8 bytes

csv.writer's default dialect (QUOTE_MINIMAL, lineterminator CRLF) puts a field in
double quotes, doubling the quotes inside, when it holds a comma, a double quote, CR
or LF; None is an empty field. Those are ASCII bytes, which never occur inside a
UTF-8 multi-byte character, so they are found by scanning the column's byte buffer.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["csv_fields", "csv_lines", "rows_with", "rows_starting_with"]

QUOTE_IF_ANY = b',"\r\n'


def _str(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())  # the kernels want the columns' own type


def csv_fields(column: pa.Array) -> pa.Array:
    """A column (text or integers, nulls allowed) as csv.writer writes its fields: large_string."""
    text = pc.fill_null(column.cast(pa.large_string()), _str(""))
    quote = rows_with(text, QUOTE_IF_ANY)
    if not quote.any():
        return text
    quoted = pc.binary_join_element_wise(_str('"'), pc.replace_substring(text, '"', '""'), _str('"'), _str(""))
    return pc.if_else(pa.array(quote), quoted, text)


def csv_lines(fields: list[pa.Array]) -> memoryview:
    """Rows of `csv_fields` columns (of one length) joined by commas, each ended by CRLF: the bytes."""
    lines = pc.binary_join_element_wise(*fields, _str(","))
    return _data(pc.binary_join_element_wise(lines, _str("\r\n"), _str("")))


def rows_with(strings: pa.Array, chars: bytes) -> np.ndarray:
    """A bool mask: the rows of a string array holding any of the ASCII `chars`."""
    offsets, data = _buffers(strings)
    hit = np.zeros(len(data), bool)
    for byte in chars:
        hit |= data == byte
    mask = np.zeros(len(strings), bool)
    mask[np.searchsorted(offsets, np.flatnonzero(hit), side="right") - 1] = True
    return mask


def rows_starting_with(strings: pa.Array, chars: bytes) -> np.ndarray:
    """A bool mask: the rows of a string array whose first character is one of the ASCII `chars`."""
    offsets, data = _buffers(strings)
    starts = offsets[:-1]
    mask = offsets[1:] > starts  # not empty
    if not mask.any():
        return mask
    first = data[np.minimum(starts, len(data) - 1)]
    mask &= np.isin(first, np.frombuffer(chars, np.uint8))
    if strings.null_count:
        mask &= pc.is_valid(strings).to_numpy(zero_copy_only=False)
    return mask


def _buffers(strings: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of a string or large_string array, offsets rebased to start at 0."""
    if not len(strings):
        return np.zeros(1, np.int64), np.zeros(0, np.uint8)
    _, offsets_buffer, data_buffer = strings.buffers()
    wide = pa.types.is_large_string(strings.type)
    start = strings.offset
    offsets = np.frombuffer(offsets_buffer, np.int64 if wide else np.int32)[start : start + len(strings) + 1]
    data = np.frombuffer(data_buffer, np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    return offsets - offsets[0], data[offsets[0] : offsets[-1]]


def _data(strings: pa.Array) -> memoryview:
    """The characters of a string array, end to end, as UTF-8 bytes (no copy)."""
    return memoryview(_buffers(strings)[1])
