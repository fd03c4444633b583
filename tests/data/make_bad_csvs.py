"""Write the broken-CSV corpus in tests/data/bad/, and make the files too big to commit.

Run ``python tests/data/make_bad_csvs.py`` to (re)write the small files; they are committed, so
this only matters when the corpus changes. The big ones (an enormous header, a file just over
the upload limit) are made at test time by the functions below, in a temporary directory.

Every file starts from rows of the real Iris table in data/Iris.csv and breaks one thing.
"""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BAD = Path(__file__).resolve().parent / "bad"
HEADER = ["SepalLengthCm", "SepalWidthCm", "PetalLengthCm", "PetalWidthCm", "Species"]

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://x","y")'
# Markdown that would load an outside image or make a link, bare addresses (which Markdown turns
# into links by itself) and bidirectional controls (U+202E makes "gnp.exe" read "exe.png")
MD_IMAGE = "![x](http://127.0.0.1:9/pixel.png)"
MD_LINK = "**bold** [t](http://127.0.0.1:9/a)"
ADDRESSES = "https://evil.example/x www.evil.example bob@evil.example"
BIDI_NAME = "\u202egnp.exe"


def iris_rows(n: int = 30) -> list[list[str]]:
    """``n`` rows of data/Iris.csv without the Id column, spread over the three species."""
    with open(ROOT / "data" / "Iris.csv", newline="", encoding="utf-8") as f:
        rows = [row[1:] for row in csv.reader(f)][1:]
    step = max(1, len(rows) // n)
    return rows[::step][:n]


def to_csv(header: list[str] | None, rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def corpus() -> dict[str, bytes]:
    """File name -> content of every small broken file."""
    rows = iris_rows()
    good = to_csv(HEADER, rows)
    files: dict[str, bytes] = {}

    files["empty.csv"] = b""
    files["whitespace_only.csv"] = b"\n  \n\t\n\n"
    files["header_only.csv"] = (",".join(HEADER) + "\n").encode()
    junk = random.Random(4).randbytes(2048)
    files["binary_junk.csv"] = b"\x89PNG\r\n\x1a\n\x00\x00" + junk
    files["utf16_with_bom.csv"] = good.encode("utf-16")  # a readable table in UTF-16 (BOM first)
    files["utf16_without_bom.csv"] = good.encode("utf-16-le")  # NUL bytes and no BOM: unreadable
    files["utf32.csv"] = good.encode("utf-32")
    # Invalid UTF-8 bytes in the header: read as Latin-1, the table itself is fine
    files["invalid_utf8_bytes.csv"] = good.encode().replace(
        b"SepalLengthCm", b"Sepal\xff\xfeLength", 1
    )
    ragged = [list(r) for r in rows]
    ragged[3] = ragged[3] + ["9.9", "extra"]
    ragged[7] = ragged[7][:2]
    files["ragged_rows.csv"] = to_csv(HEADER, ragged).encode()
    short = [r[:3] if i % 2 else r for i, r in enumerate(rows)]
    files["short_rows.csv"] = to_csv(HEADER, short).encode()
    text = [list(r) for r in rows]
    for r in text[::3]:
        r[1] = "wide"
    files["text_in_features.csv"] = to_csv(HEADER, text).encode()
    nans = [list(r) for r in rows]
    nans[2][0] = ""
    nans[5][2] = "NaN"
    nans[9][3] = "nan"
    files["nans.csv"] = to_csv(HEADER, nans).encode()
    na_target = [list(r) for r in rows]
    na_target[4][4] = ""
    files["missing_target.csv"] = to_csv(HEADER, na_target).encode()
    files["single_class.csv"] = to_csv(HEADER, [[*r[:4], "Iris-setosa"] for r in rows]).encode()
    files["one_column.csv"] = to_csv(["SepalLengthCm"], [r[:1] for r in rows]).encode()
    files["semicolons.csv"] = to_csv(HEADER, rows).replace(",", ";").encode()
    files["id_and_target_only.csv"] = to_csv(
        ["Id", "Species"], [[str(i + 1), r[4]] for i, r in enumerate(rows)]
    ).encode()
    files["duplicate_header.csv"] = to_csv(
        ["SepalLengthCm", "SepalLengthCm", *HEADER[2:]], rows
    ).encode()
    infinite = [list(r) for r in rows]
    infinite[1][0] = "1e400"
    infinite[6][2] = "-inf"
    files["infinite_values.csv"] = to_csv(HEADER, infinite).encode()
    files["unterminated_quote.csv"] = (
        to_csv(HEADER, rows[:5]) + '"5.1,3.5,1.4,0.2,Iris\n'
    ).encode()
    files["class_per_row.csv"] = to_csv(
        HEADER, [[*r[:4], f"class {i}"] for i, r in enumerate(rows)]
    ).encode()
    # Valid numerically: the text must come through as plain data, never as a formula or HTML
    formula = [list(r) for r in rows]
    injected = {"Iris-setosa": FORMULA, "Iris-versicolor": "@SUM(1+1)"}
    for r in formula:
        r[4] = injected.get(r[4], "+cmd|' /C calc'!A0")
    files["formula_injection.csv"] = to_csv(HEADER, formula).encode()
    html = [list(r) for r in rows]
    labels = {"Iris-setosa": IMG, "Iris-versicolor": SCRIPT, "Iris-virginica": "<b>bold</b>"}
    for r in html:
        r[4] = labels[r[4]]
    files["html_in_headers_and_cells.csv"] = to_csv(
        [SCRIPT, IMG, "<b>petal</b> length", "petal width", "<i>species</i>"], html
    ).encode()
    markdown = [list(r) for r in rows]
    labels = {"Iris-setosa": MD_IMAGE, "Iris-versicolor": MD_LINK, "Iris-virginica": ADDRESSES}
    for r in markdown:
        r[4] = labels[r[4]]
    files["markdown_and_addresses_in_names.csv"] = to_csv(
        [MD_IMAGE, MD_LINK, ADDRESSES, f"petal {BIDI_NAME}", "_species_"], markdown
    ).encode()
    html_features = [list(r) for r in rows]
    for r in html_features[::4]:
        r[0] = IMG
    files["html_in_feature_cells.csv"] = to_csv(HEADER, html_features).encode()
    return files


def enormous_header(n_columns: int = 20_000) -> bytes:
    """A header with ``n_columns`` names and two short rows (about 0.3 MB)."""
    header = ",".join(f"feature_{j}" for j in range(n_columns - 1)) + ",class"
    row = ",".join(["1"] * (n_columns - 1))
    return f"{header}\n{row},a\n{row},b\n".encode()


def megabyte_header_line(n_bytes: int = 1024 * 1024) -> bytes:
    """A single header name of ``n_bytes`` characters, then a normal-looking table."""
    return ("x" * n_bytes + ",class\n1,a\n2,b\n3,a\n4,b\n").encode()


def just_over(limit_bytes: int, extra: int = 1024) -> bytes:
    """A well-formed Iris-like CSV a little larger than ``limit_bytes``."""
    rows = to_csv(None, iris_rows(150)).encode()
    body = (",".join(HEADER) + "\n").encode()
    repeats = (limit_bytes + extra - len(body)) // len(rows) + 1
    data = body + rows * repeats
    return data[: limit_bytes + extra].rsplit(b"\n", 1)[0] + b"\n"


def too_many_rows(n_rows: int) -> bytes:
    """A well-formed Iris-like CSV with ``n_rows`` data rows."""
    rows = iris_rows(150)
    return to_csv(HEADER, [rows[i % len(rows)] for i in range(n_rows)]).encode()


def main() -> None:
    BAD.mkdir(parents=True, exist_ok=True)
    for name, content in corpus().items():
        (BAD / name).write_bytes(content)
    print(f"wrote {len(corpus())} files to {BAD}")


if __name__ == "__main__":
    main()
