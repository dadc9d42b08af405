#!/bin/sh
# dev-pki.sh: a throwaway PKI for `make run` and the tests. Never use it in
# production (docs/operations.md says how to use your own CA).
#
#   scripts/dev-pki.sh [DIR] [NAME...]   CA, server cert, CRL and one client
#                                        cert per NAME (default: the demo
#                                        city's principals)
#   scripts/dev-pki.sh revoke  DIR NAME  revoke DIR/clients/NAME.crt (made
#                                        first if missing), rewrite the CRL;
#                                        the cert is not remade later, so
#                                        give tests a name of their own
#   scripts/dev-pki.sh expired DIR NAME  DIR/expired/NAME.{crt,key}: CN=NAME,
#                                        signed by the CA, validity ended
#   scripts/dev-pki.sh future  DIR NAME  DIR/future/NAME.{crt,key}: CN=NAME,
#                                        signed by the CA, not valid before
#                                        2099 (a clock or issuing mistake)
#   scripts/dev-pki.sh foreign DIR NAME  DIR/foreign/NAME.{crt,key}: CN=NAME,
#                                        signed by a throwaway CA
#                                        (DIR/foreign/ca.{crt,key})
#   scripts/dev-pki.sh nats DIR [NAME...]
#                                        the city's NATS PKI under DIR/nats/
#                                        (docs/federation.md): a CA of its
#                                        own; a NAME nats-* is a server
#                                        (DIR/nats/servers/NAME.{crt,key}),
#                                        any other a client
#                                        (DIR/nats/clients/NAME.{crt,key});
#                                        default: nats-1..3, city, router,
#                                        feeder and the demo's bridges and
#                                        desk
#
# Idempotent: only what is missing (or no longer valid: absent key, a cert
# that does not verify against the CA or does not match its key) is made,
# with one line per thing made. DIR defaults to var/pki. Layout:
#
#   DIR/ca.crt DIR/ca.key              the dev CA (EC P-256, 10 years)
#   DIR/server.crt DIR/server.key      CN=whistled, SAN localhost,
#                                      127.0.0.1, ::1 (825 days)
#   DIR/clients/NAME.crt NAME.key      CN=NAME, clientAuth (825 days)
#   DIR/crl.pem                        the CA's CRL (revoked serials)
#   DIR/ca-db/                         the `openssl ca` database
#   DIR/nats/...                       the same layout for the NATS CA
#                                      ("whistle dev NATS CA"), with
#                                      servers/NAME.{crt,key}: CN=NAME,
#                                      SAN localhost, 127.0.0.1, ::1,
#                                      serverAuth + clientAuth (cluster
#                                      routes authenticate both ways)
#
# Keys are 0600. Needs a POSIX sh and the openssl CLI (1.1.1 or 3.x).
set -eu

DEFAULT_NAMES="admin operator operator2 district police urban market emergency environment
health fire housing gridworker community kiosk hotline sensor gateway volunteer member bridge"
# The NATS side of a city (docs/federation.md): three servers, the city's
# programs, the demo districts' bridges and one city department's desk.
NATS_NAMES="nats-1 nats-2 nats-3 city router feeder stats bridge-110105 bridge-110108 desk-city_water desk-city_transport"
CA_DAYS=3650
LEAF_DAYS=825
CRL_DAYS=3650

prog=dev-pki

die() {
    echo "$prog: $*" >&2
    exit 1
}
made() { echo "$prog: made $*"; }

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit "${1:-0}"
}

# Runs openssl quietly: its chatter is shown only when it fails.
ossl() {
    if ! openssl "$@" >"$work/out" 2>&1; then
        cat "$work/out" >&2
        die "openssl $1 failed (see above)"
    fi
}

check_name() {
    case "$1" in
    "" | *[!A-Za-z0-9._-]* | .* | -*)
        die "bad name '$1': use letters, digits, '.', '_' and '-' (it becomes the certificate's CN)"
        ;;
    esac
}

# ---------------------------------------------------------------- set-up

cmd=issue
case "${1:-}" in
-h | --help) usage 0 ;;
revoke | expired | future | foreign)
    cmd=$1
    [ $# -eq 3 ] || usage 2 >&2
    shift
    ;;
nats)
    cmd=nats
    shift
    ;;
esac

dir=${1:-var/pki}
[ $# -gt 0 ] && shift
names=${*:-$DEFAULT_NAMES}
ca_cn="whistle dev CA"
if [ "$cmd" = nats ]; then
    # The city's NATS cluster trusts a CA of its own, not the district's:
    # a district's whistled certificates open nothing on NATS, and a NATS
    # certificate opens nothing on a whistled.
    names=${*:-$NATS_NAMES}
    dir="$dir/nats"
    ca_cn="whistle dev NATS CA"
fi
for n in $names; do check_name "$n"; done

command -v openssl >/dev/null 2>&1 || die "openssl not found: install it (apt-get install openssl)"

mkdir -p "$dir/clients" "$dir/ca-db/newcerts" || die "cannot create $dir"
dir=$(cd "$dir" && pwd)

# Several tests may run this at once on the same DIR: one at a time.
lock="$dir/.lock"
tries=0
while ! mkdir "$lock" 2>/dev/null; do
    tries=$((tries + 1))
    [ $tries -lt 600 ] || die "$lock held for 60 s: remove it if no other dev-pki.sh is running"
    sleep 0.1
done
work=$(mktemp -d "${TMPDIR:-/tmp}/dev-pki.XXXXXX") || {
    rmdir "$lock"
    die "mktemp failed"
}
trap 'rm -rf "$work"; rmdir "$lock" 2>/dev/null || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

db="$dir/ca-db"
[ -f "$db/index.txt" ] || : >"$db/index.txt"
[ -f "$db/index.txt.attr" ] || echo "unique_subject = no" >"$db/index.txt.attr"
[ -f "$db/crlnumber" ] || echo 1000 >"$db/crlnumber"

# One config for req, x509 and ca. Paths come from the environment so that
# nothing absolute is stored in DIR.
export WHISTLE_PKI_DB="$db" WHISTLE_PKI_DIR="$dir"
cnf="$work/openssl.cnf"
cat >"$cnf" <<EOF
[ req ]
distinguished_name = req_dn
prompt             = no
[ req_dn ]
CN = unused

[ ca ]
default_ca = dev_ca
[ dev_ca ]
database         = \$ENV::WHISTLE_PKI_DB/index.txt
new_certs_dir    = \$ENV::WHISTLE_PKI_DB/newcerts
crlnumber        = \$ENV::WHISTLE_PKI_DB/crlnumber
certificate      = \$ENV::WHISTLE_PKI_DIR/ca.crt
private_key      = \$ENV::WHISTLE_PKI_DIR/ca.key
rand_serial      = yes
default_md       = sha256
default_days     = $LEAF_DAYS
default_crl_days = $CRL_DAYS
policy           = policy_cn
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
crl_extensions   = crl_ext
[ policy_cn ]
commonName = supplied
[ crl_ext ]
authorityKeyIdentifier = keyid:always

[ v3_ca ]
basicConstraints       = critical, CA:TRUE, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
[ v3_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ v3_nats_server ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth, clientAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
[ v3_client ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF

# ---------------------------------------------------------------- helpers

# new_key FILE: an EC P-256 key, mode 0600, written atomically.
new_key() {
    (
        umask 077
        ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -pkeyopt ec_param_enc:named_curve -out "$1.tmp"
    )
    chmod 600 "$1.tmp"
    mv -f "$1.tmp" "$1"
}

# key_matches CERT KEY: whether the certificate holds the key's public half.
key_matches() {
    a=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
    b=$(openssl pkey -in "$2" -pubout 2>/dev/null) || return 1
    [ "$a" = "$b" ]
}

# leaf_ok CERT KEY CAFILE: both files exist, the cert chains to CAFILE and is
# within its validity (revocation is not checked: a revoked cert stays as it
# is), and it matches the key.
leaf_ok() {
    [ -s "$1" ] && [ -s "$2" ] || return 1
    openssl verify -CAfile "$3" "$1" >/dev/null 2>&1 || return 1
    key_matches "$1" "$2"
}

# ca_sign CSR OUT EXT [openssl ca options...]: signs through the CA database.
ca_sign() {
    csr=$1 out=$2 ext=$3
    shift 3
    ossl ca -batch -config "$cnf" -notext -preserveDN -extensions "$ext" \
        -in "$csr" -out "$out.tmp" "$@"
    mv -f "$out.tmp" "$out"
}

# leaf BASE CN EXT: BASE.crt + BASE.key signed by the dev CA, unless valid.
leaf() {
    base=$1 cn=$2 ext=$3
    leaf_ok "$base.crt" "$base.key" "$dir/ca.crt" && return 0
    what="$base.crt"
    if ! [ -s "$base.key" ] || ! openssl pkey -in "$base.key" -noout 2>/dev/null; then
        new_key "$base.key"
        what="$base.crt $base.key"
    fi
    ossl req -new -config "$cnf" -key "$base.key" -subj "/CN=$cn" -out "$work/leaf.csr"
    ca_sign "$work/leaf.csr" "$base.crt" "$ext" -days "$LEAF_DAYS"
    made "$what"
}

gen_crl() {
    ossl ca -config "$cnf" -gencrl -out "$dir/crl.pem.tmp"
    mv -f "$dir/crl.pem.tmp" "$dir/crl.pem"
}

# ---------------------------------------------------------------- the CA

ensure_base() {
    if [ -s "$dir/ca.crt" ] && [ -s "$dir/ca.key" ]; then
        key_matches "$dir/ca.crt" "$dir/ca.key" ||
            die "$dir/ca.crt does not match $dir/ca.key: remove $dir and run again"
        openssl x509 -in "$dir/ca.crt" -noout -checkend 86400 >/dev/null 2>&1 ||
            die "$dir/ca.crt has expired (or expires within a day): remove $dir and run again"
    elif [ -e "$dir/ca.crt" ] || [ -e "$dir/ca.key" ]; then
        die "only one of $dir/ca.crt and $dir/ca.key exists: remove $dir and run again"
    else
        new_key "$dir/ca.key"
        ossl req -new -x509 -config "$cnf" -key "$dir/ca.key" -subj "/CN=$ca_cn" \
            -extensions v3_ca -sha256 -days "$CA_DAYS" -set_serial "0x$(openssl rand -hex 8)" \
            -out "$dir/ca.crt.tmp"
        mv -f "$dir/ca.crt.tmp" "$dir/ca.crt"
        # A new CA: whatever was issued before is void.
        : >"$db/index.txt"
        rm -f "$dir/crl.pem"
        made "$dir/ca.crt $dir/ca.key"
    fi
    [ "$cmd" = nats ] || leaf "$dir/server" whistled v3_server
    if ! [ -s "$dir/crl.pem" ] ||
        ! openssl crl -in "$dir/crl.pem" -CAfile "$dir/ca.crt" -noout >/dev/null 2>&1; then
        gen_crl
        made "$dir/crl.pem"
    fi
}

ensure_base

case $cmd in
issue)
    for n in $names; do
        leaf "$dir/clients/$n" "$n" v3_client
    done
    ;;

nats)
    mkdir -p "$dir/servers"
    for n in $names; do
        case $n in
        nats-*) leaf "$dir/servers/$n" "$n" v3_nats_server ;;
        *) leaf "$dir/clients/$n" "$n" v3_client ;;
        esac
    done
    ;;

revoke)
    n=$names
    leaf "$dir/clients/$n" "$n" v3_client
    serial=$(openssl x509 -in "$dir/clients/$n.crt" -noout -serial | sed 's/^serial=//')
    if awk -F '\t' -v s="$serial" '$1 == "R" && toupper($4) == toupper(s) { f = 1 } END { exit !f }' \
        "$db/index.txt"; then
        : # already revoked
    else
        ossl ca -config "$cnf" -revoke "$dir/clients/$n.crt" -crl_reason keyCompromise
        gen_crl
        echo "$prog: revoked $dir/clients/$n.crt (serial $serial), made $dir/crl.pem"
    fi
    ;;

expired)
    n=$names
    mkdir -p "$dir/expired"
    base="$dir/expired/$n"
    if ! [ -s "$base.crt" ] || ! [ -s "$base.key" ] || ! key_matches "$base.crt" "$base.key"; then
        new_key "$base.key"
        ossl req -new -config "$cnf" -key "$base.key" -subj "/CN=$n" -out "$work/leaf.csr"
        # Valid for a year that ended long ago, inside nothing the CA covers
        # today: verification fails with "certificate has expired".
        ca_sign "$work/leaf.csr" "$base.crt" v3_client \
            -startdate 20200101000000Z -enddate 20210101000000Z
        made "$base.crt $base.key"
    fi
    ;;

future)
    n=$names
    mkdir -p "$dir/future"
    base="$dir/future/$n"
    if ! [ -s "$base.crt" ] || ! [ -s "$base.key" ] || ! key_matches "$base.crt" "$base.key"; then
        new_key "$base.key"
        ossl req -new -config "$cnf" -key "$base.key" -subj "/CN=$n" -out "$work/leaf.csr"
        # Valid from a day far ahead: verification fails with "certificate
        # is not yet valid".
        ca_sign "$work/leaf.csr" "$base.crt" v3_client \
            -startdate 20990101000000Z -enddate 21000101000000Z
        made "$base.crt $base.key"
    fi
    ;;

foreign)
    n=$names
    fdir="$dir/foreign"
    mkdir -p "$fdir"
    if ! [ -s "$fdir/ca.crt" ] || ! [ -s "$fdir/ca.key" ] || ! key_matches "$fdir/ca.crt" "$fdir/ca.key"; then
        new_key "$fdir/ca.key"
        ossl req -new -x509 -config "$cnf" -key "$fdir/ca.key" -subj "/CN=whistle foreign CA (untrusted)" \
            -extensions v3_ca -sha256 -days "$CA_DAYS" -set_serial "0x$(openssl rand -hex 8)" \
            -out "$fdir/ca.crt.tmp"
        mv -f "$fdir/ca.crt.tmp" "$fdir/ca.crt"
        made "$fdir/ca.crt $fdir/ca.key"
    fi
    base="$fdir/$n"
    if ! leaf_ok "$base.crt" "$base.key" "$fdir/ca.crt"; then
        [ -s "$base.key" ] || new_key "$base.key"
        ossl req -new -config "$cnf" -key "$base.key" -subj "/CN=$n" -out "$work/leaf.csr"
        ossl x509 -req -in "$work/leaf.csr" -CA "$fdir/ca.crt" -CAkey "$fdir/ca.key" \
            -set_serial "0x$(openssl rand -hex 8)" -days "$LEAF_DAYS" -sha256 \
            -extfile "$cnf" -extensions v3_client -out "$base.crt.tmp"
        mv -f "$base.crt.tmp" "$base.crt"
        made "$base.crt $base.key"
    fi
    ;;
esac
