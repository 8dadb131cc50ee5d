#!/usr/bin/env python3
"""Checks eas-sync --json output against the schema of docs/eas-sync.md.

    eas_sync_schema.py COMMAND FILE

FILE holds the command's standard output: one JSON document per line.  Exit 0
when every line parses and matches; 1 with the reasons otherwise.
"""
import json
import sys

STR, NUM, BOOL = str, (int, float), bool
OPT_STR = (str, type(None))
OPT_BOOL = (bool, type(None))
OPT_NUM = (int, float, type(None))

ITEM = {"server_id": STR, "folder": STR, "folder_name": STR, "class": STR, "subject": STR,
        "from": STR, "date": STR, "read": OPT_BOOL, "attachments": NUM, "size": NUM}
ERROR = {"kind": STR, "exit_code": NUM, "message": STR}
SCHEMAS = {
    "sync": {"folders": [{"id": STR, "name": STR, "type": NUM, "class": STR, "added": NUM,
                          "changed": NUM, "deleted": NUM, "items": NUM}],
             "added": NUM, "changed": NUM, "deleted": NUM, "bytes": NUM, "seconds": NUM,
             "items_per_second": NUM, "bytes_per_second": NUM},
    "folders": {"folders": [{"id": STR, "parent": STR, "name": STR, "path": STR, "type": NUM,
                             "type_name": STR, "class": STR, "sync_key": STR,
                             "sync_wanted": BOOL, "items": NUM}]},
    "list": {"folder": STR, "folder_name": STR, "total": NUM, "items": [ITEM]},
    "send": {"subject": STR, "to": [STR], "cc": [STR], "attachments": NUM, "bytes": NUM,
             "saved_in_sent": BOOL},
    "fetch-attachment": {"server_id": STR, "folder": STR, "index": NUM, "name": STR,
                         "content_type": STR, "bytes": NUM, "path": STR},
    "mark": {"server_id": STR, "folder": STR, "read": BOOL, "uploaded": BOOL},
    "move": {"server_id": STR, "folder": STR, "destination": STR, "new_server_id": OPT_STR},
    "reply": {"original": STR, "folder": STR, "subject": STR, "bytes": NUM, "saved_in_sent": BOOL},
    "forward": {"original": STR, "folder": STR, "subject": STR, "bytes": NUM, "saved_in_sent": BOOL},
    "status": {"data_dir": STR,
               "account": {"url": STR, "user": STR, "email": STR, "device_id": STR},
               "protocol_version": OPT_STR, "policy_key": OPT_STR, "policy": OPT_STR,
               "last_sync": OPT_NUM, "pending_changes": NUM, "items": NUM,
               "folders": [{"id": STR, "name": STR, "class": STR, "sync_key": STR,
                            "synced": BOOL, "more_available": BOOL, "items": NUM,
                            "pending_changes": NUM}]},
}
SHOW_EMAIL = {"server_id": STR, "folder": STR, "folder_name": STR, "class": STR, "subject": STR,
              "from": STR, "to": STR, "cc": STR, "date": STR, "read": BOOL, "flag": NUM,
              "body_type": STR, "body": OPT_STR, "body_truncated": BOOL,
              "attachments": [{"index": NUM, "name": STR, "size": NUM, "content_type": STR,
                               "file_reference": STR, "inline": BOOL}]}
SHOW_RAW = {"server_id": STR, "folder": STR, "folder_name": STR, "class": STR, "subject": STR,
            "from": STR, "date": STR, "xml": STR}
PUSH_EVENTS = {
    "listening": {"time": NUM},
    "new": {"time": NUM, "item": ITEM},
    "changed": {"time": NUM, "item": ITEM},
    "deleted": {"time": NUM, "folder": STR, "folder_name": STR, "server_id": STR, "soft": BOOL},
    "end": {"command": STR, "ok": BOOL, "reason": STR, "received": NUM, "changed": NUM,
            "deleted": NUM, "seconds": NUM},
}


def check(value, schema, where, errors):
    """Appends to errors every place where value does not match schema."""
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            errors.append(f"{where}: expected an object, got {type(value).__name__}")
            return
        for key, sub in schema.items():
            if key not in value:
                errors.append(f"{where}: missing key '{key}'")
            else:
                check(value[key], sub, f"{where}.{key}", errors)
    elif isinstance(schema, list):
        if not isinstance(value, list):
            errors.append(f"{where}: expected an array, got {type(value).__name__}")
            return
        for i, v in enumerate(value):
            check(v, schema[0], f"{where}[{i}]", errors)
    else:
        # bool is an int in Python: keep numbers and booleans apart
        ok = isinstance(value, schema)
        if ok and isinstance(value, bool) and schema in (NUM, OPT_NUM):
            ok = False
        if ok and not isinstance(value, bool) and isinstance(value, int) and schema in (BOOL, OPT_BOOL):
            ok = False
        if not ok:
            errors.append(f"{where}: unexpected {type(value).__name__} {value!r:.60}")


def check_doc(command, doc, where, errors):
    if "event" in doc and command == "push":
        schema = PUSH_EVENTS.get(doc["event"])
        if schema is None:
            errors.append(f"{where}: unknown push event {doc['event']!r}")
        else:
            check(doc, schema, where, errors)
        return
    check(doc, {"command": STR, "ok": BOOL}, where, errors)
    if errors:
        return
    if doc["command"] != command:
        errors.append(f"{where}: command is {doc['command']!r}, expected {command!r}")
    if not doc["ok"]:
        check(doc, {"error": ERROR}, where, errors)
        return
    if command == "show":
        item = doc.get("item")
        raw = isinstance(item, dict) and "xml" in item
        check(doc, {"item": SHOW_RAW if raw else SHOW_EMAIL}, where, errors)
    elif command in SCHEMAS:
        check(doc, SCHEMAS[command], where, errors)
    else:
        errors.append(f"{where}: no schema for command {command!r}")


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, path = sys.argv[1], sys.argv[2]
    errors = []
    lines = [l for l in open(path, encoding="utf-8").read().split("\n") if l.strip()]
    if not lines:
        errors.append("no JSON output at all")
    for n, line in enumerate(lines, 1):
        try:
            doc = json.loads(line)
        except ValueError as e:
            errors.append(f"line {n}: not JSON ({e}): {line[:80]!r}")
            continue
        check_doc(command, doc, f"line {n}", errors)
    for e in errors:
        print(f"schema: {command}: {e}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
