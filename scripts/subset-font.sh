#!/usr/bin/env bash
# Reproduces api/documents/font/gbsn00lp-gb2312.ttf, the font the printed documents embed: AR PL
# SungtiL GB (gbsn00lp.ttf, Debian's fonts-arphic-gbsn00lp, Arphic Public License) subset to
# printable ASCII and the characters of GB2312, without hinting, with fontTools' pyftsubset
# (Debian's python3-fonttools). Each document embeds it cut again to the glyphs it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
src=/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf
[ -f "$src" ] || { echo "subset-font: $src missing: apt-get install fonts-arphic-gbsn00lp" >&2; exit 1; }
py=/usr/bin/python3
text=$(mktemp)
trap 'rm -f "$text"' EXIT
"$py" - "$text" <<'PY'
import sys
chars = [chr(c) for c in range(0x20, 0x7f)]
for hi in range(0xa1, 0xf8):
    for lo in range(0xa1, 0xff):
        try:
            chars.append(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars.append("\u2030")  # ‰, not in GB2312
open(sys.argv[1], "w", encoding="utf-8").write("".join(chars))
PY
"$py" -m fontTools.subset "$src" --text-file="$text" --no-hinting --drop-tables+=vhea,vmtx,mort \
  --name-IDs='*' --name-languages='*' --output-file=api/documents/font/gbsn00lp-gb2312.ttf
# GB2312's A1A4 · and A1AA —: Python's codec reads them as U+30FB and U+2015, which the font
# lacks, so the cut above left them out; the font draws them as U+00B7 and U+2014 (as GB18030,
# and Go's decoder of GBK files, read them). They are a font of their own, added to the one above
# when it is read (documents/font.go), so that the file above, which the first printing embeds
# whole, stays byte for byte what it was.
"$py" -m fontTools.subset "$src" --unicodes=U+00B7,U+2014 --no-hinting --drop-tables+=vhea,vmtx,mort \
  --output-file=api/documents/font/gbsn00lp-more.ttf
ls -l api/documents/font/gbsn00lp-gb2312.ttf api/documents/font/gbsn00lp-more.ttf
