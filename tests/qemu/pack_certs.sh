# Certificates and directories (docs/firmware-pack.md, "Certificates and
# directories"), with rules_examples on an sfemu-mount, for ARM, little- and
# big-endian MIPS guests: a run that asks for none of them makes nothing;
# a directory of config/bootstrap_fs.conf appears in the upper layer when a
# program opens it or a path below it (/var -> /tmp/var dangling: made as
# /tmp/var/...); a missing /etc/server.pem named in config/ssl/certs.conf
# is made at its first open, in the upper layer only: a valid key and
# self-signed certificate (openssl on the host) with the template's subject,
# days and key type, the key file mode 0600; it is made once (a second run
# reads the same file); a key/cert pair in two files matches; an EC template
# makes an EC key; a .pem no template names stays missing; no key material
# reaches the log; the firmware tree (the lower layer) is untouched.  A
# template with a bad key type or subject, and a line that is no field, are
# named with file and line; the open keeps its ENOENT.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
require "openssl on the host" command -v openssl

RULES=$TMP/rules
cp -r "$SRC/rules_examples" "$RULES"
rm -rf "$RULES"/cache/* "$RULES"/plugins/fakefile/config/* "$RULES"/plugins/fakefile/data/*

for arch in arm mipsel mips; do
  R=$TMP/root-$arch LOG=$TMP/log-$arch U=$TMP/root-$arch.sfemu/tree
  mkdir -p "$R/bin" "$R/etc" "$R/dev"
  ln -s /tmp/var "$R/var"                       # no /tmp: /var dangles
  cp "$GDIR/life-$arch" "$R/bin/life"
  before=$(manifest "$R")
  # the template's subject, per architecture: it comes from the template
  sed "s|^subject = .*CN=router.local$|subject = /C=DE/O=Pack Test/CN=certs-$arch|" \
    "$SRC/rules_examples/config/ssl/certs.conf" > "$RULES/config/ssl/certs.conf"
  mnt "$R" --rules "$RULES"
  run() { SFEMU_LOG=$LOG timeout 120 "$QDIR/qemu-$arch" -L "$R" -rules "$RULES" "$R/bin/life" "$@"; }

  run head /etc/hostname > /dev/null
  check "$arch a run that asks for no listed path makes nothing (no /tmp, no .pem)" \
    test ! -e "$U/tmp" -a ! -e "$U/etc/server.pem"

  out=$(run head /etc/server.pem)
  expect_eq "$arch the first open of the missing /etc/server.pem reads a key" "$out" "-----BEGIN PRIVATE KEY-----"
  check "$arch ... made in the upper layer" test -s "$U/etc/server.pem"
  expect_eq "$arch ... key file mode 0600" "$(stat -c %a "$U/etc/server.pem")" 600
  check "$arch ... a valid certificate (openssl x509)" openssl x509 -in "$U/etc/server.pem" -noout
  check "$arch ... and a valid key (openssl pkey -check)" openssl pkey -in "$U/etc/server.pem" -check -noout
  expect_eq "$arch ... the key is the certificate's" \
    "$(openssl x509 -in "$U/etc/server.pem" -noout -pubkey)" \
    "$(openssl pkey -in "$U/etc/server.pem" -pubout)"
  expect_match "$arch ... the template's subject" "C ?= ?DE, O ?= ?Pack Test, CN ?= ?certs-$arch" \
    "$(openssl x509 -in "$U/etc/server.pem" -noout -subject)"
  expect_match "$arch ... self-signed (issuer = subject)" "CN ?= ?certs-$arch" \
    "$(openssl x509 -in "$U/etc/server.pem" -noout -issuer)"
  expect_match "$arch ... the template's key type" "Public-Key: \(2048 bit\)" \
    "$(openssl x509 -in "$U/etc/server.pem" -noout -text)"
  check "$arch ... valid now and for 3649 more days, not 3651" sh -c \
    "openssl x509 -in '$U/etc/server.pem' -noout -checkend $((3649*86400)) >/dev/null &&
     ! openssl x509 -in '$U/etc/server.pem' -noout -checkend $((3651*86400)) >/dev/null"
  expect_grep "$arch ... logged as made at first use" \
    "bootstrap_fs: made /etc/server.pem at its first use: a new rsa:2048 key" "$LOG"
  sum=$(sha256sum < "$U/etc/server.pem")
  run head /etc/server.pem > /dev/null
  expect_eq "$arch ... made once: a second run reads the same file" "$(sha256sum < "$U/etc/server.pem")" "$sum"

  out=$(run head /etc/cert.pem)
  expect_eq "$arch a cert/key pair in two files: the certificate" "$out" "-----BEGIN CERTIFICATE-----"
  expect_eq "$arch ... its key beside it matches" \
    "$(openssl x509 -in "$U/etc/cert.pem" -noout -pubkey)" "$(openssl pkey -in "$U/etc/key.pem" -pubout)"
  expect_eq "$arch ... the certificate file mode 0644" "$(stat -c %a "$U/etc/cert.pem")" 644
  out=$(run head /etc/ssl/private/server.key)
  expect_eq "$arch an EC template: its key (directories made)" "$out" "-----BEGIN PRIVATE KEY-----"
  expect_match "$arch ... an EC certificate" "ASN1 OID: prime256v1" \
    "$(openssl x509 -in "$U/etc/ssl/certs/server.crt" -noout -text)"

  out=$(run head /etc/other.pem)
  expect_eq "$arch a .pem no template names stays missing" "$out" "open /etc/other.pem -> -1 errno=2"
  check "$arch ... nothing made" test ! -e "$U/etc/other.pem"
  expect_no_grep "$arch no key material in the log" "PRIVATE|BEGIN" "$LOG"

  expect_match "$arch opendir of the missing /var/run succeeds" "^opendir /var/run -> ok errno=0$" "$(run ls /var/run)"
  expect_match "$arch ... and of /var/log" "^opendir /var/log -> ok errno=0$" "$(run ls /var/log)"
  expect_eq "$arch a missing file below /var/lock stays missing" "$(run head /var/lock/LCK..ttyS0)" \
    "open /var/lock/LCK..ttyS0 -> -1 errno=2"
  for d in tmp/var/run tmp/var/log tmp/var/lock; do
    check "$arch ... the directory /${d#tmp/} (via /var -> /tmp/var) is in the upper layer" test -d "$U/$d"
  done
  check "$arch a listed directory nobody asked for is not made (/var/tmp)" test ! -e "$U/tmp/var/tmp"
  expect_grep "$arch ... each made one logged" "bootstrap_fs: made the directory /var/lock at its first use" "$LOG"
  expect_eq "$arch /tmp (the target of /var) has its listed mode 1777 (less the umask, as mkdir)" \
    "$(stat -c %a "$U/tmp")" "$(printf '%o' $((01777 & ~$(umask))))"
  umnt "$R"
  expect_eq "$arch the firmware tree is untouched" "$(manifest "$R")" "$before"
done

# Bad templates are named with their file and line, and the open keeps its
# ENOENT (the guest goes on); no mount needed.
R=$TMP/root-bad LOG=$TMP/log-bad
mkdir -p "$R/bin" "$R/etc"
cp "$GDIR/life-arm" "$R/bin/life"
cp "$SRC/rules_examples/config/ssl/certs.conf" "$RULES/config/ssl/certs.conf"
printf '[/etc/bad.pem]\nkey_type = dsa:1024\n[/etc/bad2.pem]\nsubject = CN-without-equals\nnonsense line\n' \
  >> "$RULES/config/ssl/certs.conf"
n=$(grep -n '^\[/etc/bad.pem\]' "$RULES/config/ssl/certs.conf" | cut -d: -f1)
out=$(SFEMU_LOG=$LOG timeout 60 "$QDIR/qemu-arm" -L "$R" -rules "$RULES" "$R/bin/life" head /etc/bad.pem)
expect_eq "a template with a bad key type: the open keeps ENOENT" "$out" "open /etc/bad.pem -> -1 errno=2"
expect_grep "... named with its file, line and argument" \
  "cannot make /etc/bad.pem \(config/ssl/certs.conf:$n\): key_type: expected rsa:BITS" "$LOG"
out=$(SFEMU_LOG=$LOG timeout 60 "$QDIR/qemu-arm" -L "$R" -rules "$RULES" "$R/bin/life" head /etc/bad2.pem)
expect_eq "a template with a bad subject: the open keeps ENOENT" "$out" "open /etc/bad2.pem -> -1 errno=2"
expect_grep "... named" "cannot make /etc/bad2.pem \(config/ssl/certs.conf:$((n + 2))\): bad subject" "$LOG"
expect_grep "a line that is no template field is named" \
  "config/ssl/certs.conf:$((n + 4)): expected \[PATH\] or key/subject/days/key_type/san = value: ignored" "$LOG"
expect_eq "nothing made, not even a temporary file" "$(ls -A "$R/etc")" ""
finish
