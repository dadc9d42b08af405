#!/bin/sh
# update-po.sh: the message catalogues after a change of the sources.
#
# For each program's gettext domain it extracts the texts marked in the
# sources (_("..."), N_("..."), C_("context", "...") and NC_, ngettext)
# into the template po/<domain>/<domain>.pot, and merges the template into
# every po/<domain>/<lang>.po: new texts come in untranslated, changed ones
# marked fuzzy (with the previous text, to see what changed), gone ones
# dropped. Then translate what it reports, and run it again:
#
#   scripts/update-po.sh             # whistle, whistle-console, whistle-kiosk
#   scripts/update-po.sh whistle     # one domain
#   scripts/update-po.sh --check     # change nothing; fail unless every
#                                    # catalogue translates every text of
#                                    # the sources as they are now
#
# The build compiles the .po files (CMakeLists.txt, whistle_po); the test
# unit/po_complete runs --check. docs/i18n.md: how to add a language.
set -eu
cd "$(dirname "$0")/.."

check=false
if [ "${1:-}" = "--check" ]; then
    check=true
    shift
fi
tmp=$(mktemp -d /tmp/whistle-po-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

version=$(sed -n 's/^project(whistle VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
failed=0

sources() {
    case $1 in
    whistle) echo client/cli client/city ;; # whistle-city: `whistle city`, `whistle stats --city`
    whistle-console) echo client/console ;;
    whistle-kiosk) echo client/kiosk ;;
    *) echo "update-po: no domain '$1' (whistle, whistle-console, whistle-kiosk)" >&2; return 1 ;;
    esac
}

update() {
    domain=$1
    dir=$(sources "$domain")
    # shellcheck disable=SC2086 # a domain may have several folders
    if [ -z "$(find $dir -name '*.[ch]' 2>/dev/null)" ]; then
        echo "update-po: $domain: no sources in $dir, skipped" >&2
        return 0
    fi
    pot=po/$domain/$domain.pot
    new=$tmp/$domain.pot
    # File names only (no line numbers), sorted: the template changes when
    # a message does, not when code moves.
    # shellcheck disable=SC2086
    find $dir -name '*.[ch]' | LC_ALL=C sort | xargs xgettext \
        --language=C --from-code=UTF-8 \
        --keyword=_ --keyword=N_ --keyword=C_:1c,2 --keyword=NC_:1c,2 \
        --add-comments=TRANSLATORS: --add-location=file --sort-by-file \
        --package-name="$domain" --package-version="$version" --msgid-bugs-address="whistle developers" \
        --output="$new"
    # The header's charset: xgettext leaves it CHARSET in a template.
    sed -i 's/charset=CHARSET/charset=UTF-8/' "$new"
    if $check; then
        found=false
        for po in "po/$domain"/*.po; do
            [ -e "$po" ] || continue
            found=true
            msgmerge --quiet --previous -o "$tmp/merged.po" "$po" "$new"
            stats=$(msgfmt --check --statistics -o /dev/null "$tmp/merged.po" 2>&1) || failed=1
            echo "$po: $stats"
            case $stats in
            *untranslated* | *fuzzy*)
                echo "FAIL: $po does not translate every text of $dir (scripts/update-po.sh $domain, then translate)"
                msgattrib --untranslated --no-obsolete "$tmp/merged.po" | grep '^msgid' | sed -n '2,11p'
                msgattrib --only-fuzzy --no-obsolete "$tmp/merged.po" | grep '^msgid' | sed -n '2,11p'
                failed=1
                ;;
            esac
        done
        $found || { echo "FAIL: $domain has no catalogue in po/$domain"; failed=1; }
        return 0
    fi
    mkdir -p "po/$domain"
    # A template whose messages did not change keeps its date: no churn.
    if [ -f "$pot" ] && [ "$(grep -v '^"POT-Creation-Date' "$pot")" = "$(grep -v '^"POT-Creation-Date' "$new")" ]; then
        :
    else
        cp "$new" "$pot"
    fi
    for po in "po/$domain"/*.po; do
        [ -e "$po" ] || continue
        msgmerge --quiet --update --backup=none --previous --add-location=file "$po" "$pot"
        # Texts gone from the sources go from the catalogue (git has them).
        msgattrib --no-obsolete --output-file="$po" "$po"
        printf '%s: ' "$po"
        msgfmt --check --statistics -o /dev/null "$po" 2>&1
    done
}

if [ $# -eq 0 ]; then
    set -- whistle whistle-console whistle-kiosk
fi
for d in "$@"; do
    update "$d"
done
exit $failed
