#!/usr/bin/env python3
"""Verify a Rotor audit export (`rotor audit export > audit.jsonl`) without Rotor.

Each line is one event. Its hash is SHA-256 over the previous hash, a newline,
and the event's canonical bytes: "rotor-audit-v1\n", then for each of id, time,
actor, action, outcome, app, rotation_id and detail either "~\n" (null) or
"<UTF-8 length>:<value>\n", where detail is canonical JSON (sorted keys, no
spaces, non-ASCII as is). Usage: verify-audit-export.py audit.jsonl
"""
import hashlib
import json
import sys


def field(value):
    if value is None:
        return b"~\n"
    data = str(value).encode("utf-8")
    return str(len(data)).encode() + b":" + data + b"\n"


def main(path):
    previous = None
    expected_id = None
    count = 0
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            event = json.loads(line)
            detail = json.dumps(event["detail"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            canonical = b"rotor-audit-v1\n" + b"".join(
                field(v)
                for v in (event["id"], event["time"], event["actor"], event["action"], event["outcome"],
                          event["app"], event["rotation_id"], detail))
            digest = hashlib.sha256((event["prev_hash"] + "\n").encode() + canonical).hexdigest()
            if expected_id is not None and event["id"] != expected_id:
                sys.exit(f"line {number}: event {event['id']} follows {expected_id - 1}: events are missing or out of order")
            if previous is not None and event["prev_hash"] != previous:
                sys.exit(f"line {number}: event {event['id']} does not link to the event before it")
            if digest != event["hash"]:
                sys.exit(f"line {number}: event {event['id']} does not match its hash (edited)")
            previous, expected_id, count = event["hash"], event["id"] + 1, count + 1
    print(f"{count} events verify")


if __name__ == "__main__":
    main(sys.argv[1])
