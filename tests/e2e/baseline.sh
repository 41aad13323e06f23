#!/bin/bash
# tests/e2e/baseline.sh — scripts/baseline_numpy.py (the NumPy/pandas speed baseline)
# gives neoscreen's answers: a 20,000-sample night with 200 cases and a plate on QC hold,
# and a 10,000-sample edited night (censored / missing cells, values at limits, odd
# covariates) under a panel with stratum overrides; every well's calls and state, the
# recall sets, and rescore vs the baseline's archive mode.  The short version of
# scripts/check_baseline.sh (all flavours, more seeds).
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
cd "$(dirname "$0")/../.." || exit 1
if ! /usr/bin/python3 -c "import pandas, h5py, yaml" 2> /dev/null; then
    echo "not ok - baseline: /usr/bin/python3 lacks pandas, h5py or yaml (scripts/install-deps.sh installs them)"
    exit 0
fi
# two runs (not one with both flavours), to stay near 20 s on a shared 2-core machine
scripts/check_baseline.sh -n 20000 -s 4 -f cases
scripts/check_baseline.sh -n 10000 -s 5 -f edge
