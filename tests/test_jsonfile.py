"""``envs.jsonfile.read_json``, the one JSON reader: every failure names the file."""

from __future__ import annotations

import pytest

from envs.jsonfile import JsonFileError, read_json


def test_reads_utf8_with_or_without_a_byte_order_mark(tmp_path):
    plain, marked = tmp_path / "plain.json", tmp_path / "marked.json"
    plain.write_text('{"name": "Caf\u00e9"}', encoding="utf-8")
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert read_json(plain) == read_json(marked) == {"name": "Caf\u00e9"}


@pytest.mark.parametrize("content, reason", [
    (b"\x89PNG\r\n\x1a\n\xff\xd8", "not a UTF-8 text file (byte 0 is 0x89)"),
    (b'{"a": [1, 2', "not valid JSON (truncated?)"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
])
def test_bad_files_raise_one_error_naming_the_file(tmp_path, content, reason):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(JsonFileError) as caught:
        read_json(path)
    assert str(caught.value).startswith(f"{path}: ") and reason in caught.value.reason and caught.value.path == str(path)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"absent\.json: not found; run make first"):
        read_json(tmp_path / "absent.json", hint="; run make first")
    with pytest.raises(JsonFileError, match="cannot read"):
        read_json(tmp_path)  # a directory
