# tests/fuzz/seeds.sh — sourced by scripts/fuzz.sh and tests/run.sh: the repository's own
# files that seed each fuzz target (and that `make test` replays through it).
#   fuzz_seeds TARGET   prints one path per line, relative to the repository root
fuzz_seeds() {
    case $1 in
    plate)        ls reference-data/example-night/plates/*.csv reference-data/example-night/genes/*.csv \
                     tests/bad-input/*.csv tests/bad-input/good/GOOD.csv ;;
    manifest)     ls reference-data/example-night/manifest.csv tests/bad-input/good/manifest.csv ;;
    hearing)      ls reference-data/example-night/hearing.csv tests/bad-input/hearing/*.csv ;;
    panel_yaml)   ls configs/panel-default.yaml ;;
    qc_yaml)      ls configs/qc.yaml tests/bad-input/qc.yaml ;;
    hearing_yaml) ls configs/hearing.yaml ;;
    genes_yaml)   ls configs/genes.yaml ;;
    xlsx)         ls tests/fuzz/regress/xlsx/01-openpyxl-sheet ;;   # XLSX files are not checked in otherwise
    *) echo "fuzz_seeds: unknown target '$1'" >&2; return 1 ;;
    esac
}
FUZZ_TARGETS="plate manifest hearing panel_yaml qc_yaml hearing_yaml genes_yaml xlsx"
