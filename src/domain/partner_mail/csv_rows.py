"""The CSV format: a CSV attachment with a header row, one booking a row.

Each row is its own item: a row that cannot be read is a problem of that row
alone, and the rows around it still book.
"""

from __future__ import annotations

import csv
import io

from berth.domain.partner_mail.formats import FIELDS, MailFormat
from berth.domain.partner_mail.key_value import request_of
from berth.domain.partner_mail.requests import Item, ItemProblem

MAX_ROWS = 500
MAX_FIELD = 1000


def parse(text: str, fmt: MailFormat) -> list[Item]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        return [ItemProblem(item=1, reference="", code="invalid-csv", message=str(error))]
    if header is None:
        return [ItemProblem(item=1, reference="", code="no-booking", message="the CSV is empty")]
    wanted = {fmt.name_of(name).casefold(): name for name in FIELDS}
    columns = [wanted.get(name.strip().casefold()) for name in header]
    if "reference" not in columns:
        name = fmt.name_of("reference")
        message = f"the CSV has no {name!r} column"
        return [ItemProblem(item=1, reference="", code="no-booking", message=message)]
    items: list[Item] = []
    row_number = 0
    while True:
        row_number += 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            items.append(
                ItemProblem(item=row_number, reference="", code="invalid-csv", message=str(error))
            )
            break  # the reader cannot go on past a broken quote
        if not any(cell.strip() for cell in row):
            row_number -= 1
            continue
        if row_number > MAX_ROWS:
            message = f"more than {MAX_ROWS} rows: the rest are not read"
            items.append(
                ItemProblem(item=row_number, reference="", code="too-many-rows", message=message)
            )
            break
        if any(len(cell) > MAX_FIELD for cell in row) or len(row) != len(header):
            message = f"row {row_number} has {len(row)} cells of at most {MAX_FIELD} characters,"
            message += f" the header {len(header)}"
            items.append(
                ItemProblem(item=row_number, reference="", code="invalid-row", message=message)
            )
            continue
        values = {ours: cell for ours, cell in zip(columns, row, strict=True) if ours}
        items.append(request_of(values, fmt, item=row_number))
    return items
