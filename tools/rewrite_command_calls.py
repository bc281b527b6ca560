"""Rewrite code written before issue 11 (branch cmdshape) to the new command API.

For merging branches started earlier; delete this file once they are merged.

    python tools/rewrite_command_calls.py context FILE...   # first
    python tools/rewrite_command_calls.py groups FILE...    # then (--receiver=NAME adds one)
    ruff check --fix --select I,F401 src tests bench && ruff format src tests bench

- context: `app.hold(..., cause=X, expected_version=Y)` becomes
  `app.hold(..., context=CommandContext(cause=X, expected_version=Y))` (the import is
  added); a call with `now=` is an aggregate method and is left alone.
- groups: `app.hold(...)` becomes `app.bookings.hold(...)`, `app.pool(id)`
  `app.catalogue.pool(id)`, `app.skip_projection_event` `app.projections.skip_event`,
  on receivers that are the application (`app`, `self.app`, `reservations`,
  `services.reservations`, ...).

Not rewritten (fix by hand; mypy finds them in src): calls through getattr(app, name),
keyword dicts holding "cause", and `**save_kwargs` handed on to commands (use
`CommandContext(idempotency=..., camera_change=...)` instead).
"""

import ast
import sys


COMMANDS = {
    "hold", "confirm", "amend", "cancel", "expire", "record_no_show", "check_in", "check_out",
    "record_payment", "request_refund", "settle_refund", "register_facility", "add_pool",
    "change_capacity", "set_tax_rate", "add_gate", "set_overstay_tariff", "record_plate_read",
    "resolve_read", "register_camera", "move_camera", "rekey_camera", "close_day",
    "reverse_entry", "skip_projection_event", "create_rate_plan", "change_rate_plan",
    "retire_rate_plan", "open_barrier",
}
IMPORT = "from berth.domain.command_context import CommandContext\n"


def offsets(source: str) -> list[int]:
    starts, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line.encode())
        starts.append(total)
    return starts


def rewrite_context(source: str) -> str:
    data = source.encode()
    starts = offsets(source)
    pos = lambda line, col: starts[line - 1] + col  # noqa: E731
    edits: list[tuple[int, int, bytes]] = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in COMMANDS:
            continue
        receiver = ast.get_source_segment(source, node.func.value) or ""
        if receiver[:1].isupper():
            continue
        kws = {k.arg: k for k in node.keywords if k.arg}
        if "cause" not in kws or "now" in kws:
            continue
        seg = lambda n: data[pos(n.lineno, n.col_offset):pos(n.end_lineno, n.end_col_offset)].decode()  # noqa: E731
        inner = f"cause={seg(kws['cause'].value)}"
        version = kws.get("expected_version")
        if version is not None:
            inner += f", expected_version={seg(version.value)}"
        cause_kw = kws["cause"]
        edits.append((pos(cause_kw.lineno, cause_kw.col_offset),
                      pos(cause_kw.end_lineno, cause_kw.end_col_offset),
                      f"context=CommandContext({inner})".encode()))
        if version is not None:
            start = pos(version.lineno, version.col_offset)
            end = pos(version.end_lineno, version.end_col_offset)
            # swallow the following comma and blanks
            while end < len(data) and data[end:end + 1] in b" \t":
                end += 1
            if data[end:end + 1] == b",":
                end += 1
                while end < len(data) and data[end:end + 1] in b" \t\n":
                    end += 1
                # keep the indentation of the next argument
                back = end
                while data[back - 1:back] in b" \t":
                    back -= 1
                if data[back - 1:back] == b"\n":
                    end = back
            edits.append((start, end, b""))
    if not edits:
        return source
    for start, end, text in sorted(edits, reverse=True):
        data = data[:start] + text + data[end:]
    out = data.decode()
    if IMPORT not in out:
        out = add_import(out)
    return out


def add_import(source: str) -> str:
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    last = 0
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            last = node.end_lineno or 0
    lines.insert(last, IMPORT)
    return "".join(lines)


GROUPS = {
    "bookings": "hold confirm amend cancel expire record_no_show check_in check_out"
    " record_payment request_refund settle_refund booking booking_by_reference",
    "catalogue": "register_facility add_pool change_capacity set_tax_rate facility pool"
    " night_inventory sold",
    "gates": "add_gate set_overstay_tariff record_plate_read resolve_read open_barrier gate",
    "pricing": "create_rate_plan change_rate_plan retire_rate_plan rate_plan plan_terms"
    " price_hold plan_lock",
    "cameras": "register_camera move_camera rekey_camera camera",
    "finance": "close_day reverse_entry",
    "projections": "skip_projection_event",
}
RENAMED = {"skip_projection_event": "skip_event"}
GROUP_OF = {a: g for g, names in GROUPS.items() for a in names.split()}
RECEIVERS = {
    "app", "self.app", "reservations", "services.reservations", "self.services.reservations",
    "call.app", "story.app", "plain[0]", "long_ago", "other", "self.reservations",
    "application", "screen.reservations", "self.screen.reservations",
}


def rewrite_groups(source: str, extra_receivers: set[str]) -> str:
    data = source.encode()
    starts, total = [0], 0
    for line in source.splitlines(keepends=True):
        total += len(line.encode())
        starts.append(total)
    edits = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Attribute) and node.attr in GROUP_OF):
            continue
        receiver = ast.get_source_segment(source, node.value)
        if receiver not in RECEIVERS | extra_receivers:
            continue
        end = starts[node.end_lineno - 1] + node.end_col_offset
        start = end - len(node.attr.encode())
        assert data[start:end].decode() == node.attr
        new = f"{GROUP_OF[node.attr]}.{RENAMED.get(node.attr, node.attr)}"
        edits.append((start, end, new.encode()))
    for start, end, text in sorted(edits, reverse=True):
        data = data[:start] + text + data[end:]
    return data.decode()


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    extra = {a.split("=", 1)[1] for a in args if a.startswith("--receiver=")}
    for path in (a for a in args if not a.startswith("--receiver=")):
        text = open(path).read()
        new = rewrite_context(text) if mode == "context" else rewrite_groups(text, extra)
        if new != text:
            open(path, "w").write(new)
            print("rewrote", path)
