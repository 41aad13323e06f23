#!/bin/sh
# install-deps.sh — install everything neoscreen needs to build, test and run on Debian 12.
#
#   scripts/install-deps.sh                the core and the test tools below
#   scripts/install-deps.sh --report-test  also Chromium and a CJK font, for the screenshot
#                                          test of the batch report (tests/e2e/report.sh;
#                                          skipped, not failed, without them); .ci/run uses it
#
# Idempotent: apt-get skips what is already installed, so running it twice is harmless.
# Run as root (CI, containers) or as a user with sudo.
#
#   core:   compiler, pkg-config, HDF5 (serial), GSL, libyaml, zlib (the XLSX lists' ZIP),
#           libdeflate (archive chunks decompressed outside HDF5, in parallel), ISA-L (libisal:
#           archive chunks deflated outside HDF5, in parallel; pipeline/zdeflate.h),
#           SQLite (the follow-up ledger; pkg-config name "sqlite3"; tests read it back with
#           python3's own sqlite3), cmocka (unit tests), libxlsxwriter (tests only: the
#           oracle test_xlsx_oracle holds neoscreen's own XLSX writer to; pkg-config name
#           "xlsxwriter")
#   tools:  h5dump/h5ls (hdf5-tools), Debian's python3 h5py/numpy/yaml/openpyxl (independent
#           readers used by the tests: openpyxl reads the XLSX back; run as /usr/bin/python3,
#           see BUILD-NOTES G7) and pandas (scripts/baseline_numpy.py, the NumPy/pandas
#           speed baseline, checked by tests/e2e/baseline.sh), valgrind (`make valgrind`,
#           run by .ci/run), xmllint (libxml2-utils: the batch report's HTML is checked
#           with it)
#   --report-test: chromium (headless screenshots of report.html, about 100 MB installed)
#           and fonts-noto-cjk (so that Chinese labels render as glyphs, not boxes)
#   not here: clang, libclang-rt-14-dev (libFuzzer) and libomp-dev, needed only by `make fuzz`
#           and scripts/fuzz.sh, which CI does not run:
#           apt-get install -y --no-install-recommends clang libclang-rt-14-dev libomp-dev
set -eu

PKGS="build-essential pkg-config libhdf5-dev hdf5-tools libgsl-dev libyaml-dev zlib1g-dev \
libxlsxwriter-dev libdeflate-dev libisal-dev libsqlite3-dev libcmocka-dev python3-h5py python3-numpy python3-pandas python3-yaml python3-openpyxl \
valgrind libxml2-utils"

for a in "$@"; do
    case "$a" in
    --report-test) PKGS="$PKGS chromium fonts-noto-cjk" ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown option '$a' (--report-test)" >&2; exit 1 ;;
    esac
done

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing:$missing"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
echo "install-deps: done"
