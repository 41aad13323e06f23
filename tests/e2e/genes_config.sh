#!/bin/bash
# tests/e2e/genes_config.sh — `neoscreen config check` on deafness-gene configs and their
# translation table: the shipped ones pass; a broken copy fails with FILE:LINE:COL and the
# offending line quoted; a translation whose zh text drops a {placeholder} is refused.
# (The gene engine itself is not wired into `run` yet: tests/unit/test_genes.c covers it.)
# Prints "ok - NAME" / "not ok - NAME: why".
set -u
NS=${NS:-$PWD/neoscreen}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1: $2"; }

out=$("$NS" config check "$ROOT/configs/genes.yaml" "$ROOT/configs/lang.yaml" 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -q "genes.yaml: ok (genes .*9 loci in 4 genes, 3 controls, 7 rules)"; then
    ok "genes: shipped genes.yaml and lang.yaml pass config check"
else nok "genes: shipped configs pass config check" "$(echo "$out" | head -c 300 | tr '\n' ' ')"; fi

# a rule naming a gene no locus has: reported at the gene's line and column
sed 's/when: {gene: GJB2, class: pathogenic, min_alleles: 2}/when: {gene: GJB9, class: pathogenic, min_alleles: 2}/' \
    "$ROOT/configs/genes.yaml" > "$T/bad.yaml"
line=$(grep -n "gene: GJB9" "$T/bad.yaml" | cut -d: -f1)
"$NS" config check "$T/bad.yaml" > /dev/null 2> "$T/bad.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "^neoscreen config: $T/bad.yaml:$line:[0-9]*: genes.rules.biallelic.when: unknown gene 'GJB9'" "$T/bad.err" &&
   grep -q ">>> .*gene: GJB9" "$T/bad.err"; then
    ok "genes: a broken genes config fails with FILE:LINE:COL and the line quoted"
else nok "genes: a broken genes config fails with FILE:LINE:COL" "rc=$rc $(head -c 300 "$T/bad.err" | tr '\n' ' ')"; fi

# a zh text without the {loci} of its en text
sed 's/zh: "{gene}基因意义未明变异（{loci}）"/zh: "{gene}基因意义未明变异"/' "$ROOT/configs/lang.yaml" > "$T/lang.yaml"
"$NS" config check "$T/lang.yaml" > /dev/null 2> "$T/lang.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "text.reason.gene_uncertain.zh has placeholders {gene} but en has {gene}, {loci}" "$T/lang.err"; then
    ok "genes: a translation that drops a placeholder fails config check"
else nok "genes: a translation that drops a placeholder fails" "rc=$rc $(head -c 300 "$T/lang.err" | tr '\n' ' ')"; fi
