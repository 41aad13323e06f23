#!/bin/bash
# check.sh — run the bad-input corpus (STYLE R10): every file under tests/bad-input/, of
# every input kind, through `neoscreen run`, checked for its exact stderr, exit status and
# counts.  The work is done by check.py (which says how); this keeps tests/run.sh's call.
#
#     tests/bad-input/check.sh NEOSCREEN_BINARY [PATTERN...]
#
# Prints "ok - bad-input FILE" or "not ok - bad-input FILE: why" per file, then
# "N passed, N failed"; exits 1 if any failed, 2 on a usage error.
set -u
if [ $# -lt 1 ]; then
    echo "Usage: $0 NEOSCREEN_BINARY [PATTERN...]" >&2
    exit 2
fi
exec /usr/bin/python3 "$(dirname "$0")/check.py" "$@"
