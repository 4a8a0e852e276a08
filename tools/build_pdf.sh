#!/usr/bin/env bash
# Build the book's PDF into DIR:
#
#     bash tools/build_pdf.sh DIR
#
# runs `jupyter-book build . --builder pdflatex` (XeLaTeX through latexmk, the index
# with xindy; the notebooks are executed, as for the HTML book) and copies the PDF
# to DIR. It exits non-zero, saying why, if a TeX tool is missing, if the build
# fails, or if the LaTeX log reports an undefined reference or a character that no
# font has (the PDF would show a gap). TeX comes from Debian:
#
#     apt-get install -y texlive-latex-recommended texlive-latex-extra \
#       texlive-fonts-recommended texlive-xetex latexmk xindy fonts-freefont-otf \
#       fonts-dejavu-core
#
# jupyter-book is the repository's .venv/bin/jupyter-book, or $JUPYTER_BOOK.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: bash tools/build_pdf.sh DIR   (writes DIR/<book>.pdf)" >&2
    exit 2
fi
out=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jb=${JUPYTER_BOOK:-$root/.venv/bin/jupyter-book}

missing=()
for tool in xelatex latexmk xindy; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
fc-list 'DejaVu Sans Mono' | grep -q . || missing+=("the font DejaVu Sans Mono")
fc-list 'FreeSerif' | grep -q . || missing+=("the font FreeSerif")
if [ ${#missing[@]} -gt 0 ]; then
    echo "tools/build_pdf.sh: missing ${missing[*]}; install the Debian packages listed" \
         "at the top of this script (the README, 'The book as a PDF')" >&2
    exit 1
fi
if [ ! -x "$jb" ]; then
    echo "tools/build_pdf.sh: $jb not found; create .venv (README) or set JUPYTER_BOOK" >&2
    exit 1
fi

latex="$root/_build/latex"
rm -rf "$latex"      # a stale .aux or .ind must not hide a failure
"$jb" build "$root" --builder pdflatex

name=$(sed -n 's/^ *targetname: *\(.*\)\.tex *$/\1/p' "$root/_config.yml")
pdf="$latex/$name.pdf"
log="$latex/$name.log"
if [ ! -s "$pdf" ]; then
    echo "tools/build_pdf.sh: the build wrote no $pdf" >&2
    exit 1
fi
problems=0
if grep -q "There were undefined references" "$log"; then
    echo "tools/build_pdf.sh: undefined references in the PDF:" >&2
    grep -o "Reference \`[^']*' on page [0-9]*" "$log" | sort -u >&2 || true
    problems=1
fi
if grep -q "Missing character" "$log"; then
    echo "tools/build_pdf.sh: characters missing from the fonts:" >&2
    grep "Missing character" "$log" | sort | uniq -c >&2
    problems=1
fi
[ "$problems" -eq 0 ] || exit 1

mkdir -p "$out"
cp "$pdf" "$out/"
pages=$(grep -o "Output written on [^ ]* ([0-9]* pages" "$log" | tail -1 | grep -o "[0-9]* pages" || true)
echo "tools/build_pdf.sh: wrote $out/$name.pdf (${pages:-? pages}, $(du -h "$pdf" | cut -f1))"
