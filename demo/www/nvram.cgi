#!/bin/sh
# nvram.cgi: the demo's CGI, as router firmware writes them: QUERY_STRING
# "key=K&value=V" sets K=V with the firmware's nvram command, commits, and
# prints the value read back.  (demo/vendor/nvram_cgi.c is the same in C,
# for a root without a shell.)
printf 'Content-Type: text/plain\r\n\r\n'
key= value=
IFS='&'
for kv in $QUERY_STRING; do
  case $kv in
    key=*) key=${kv#key=} ;;
    value=*) value=${kv#value=} ;;
  esac
done
unset IFS
case $key in ''|*[!A-Za-z0-9_]*) echo "usage: nvram.cgi?key=NAME&value=VALUE"; exit 0 ;; esac
case $value in ''|*[!A-Za-z0-9_.:-]*) echo "usage: nvram.cgi?key=NAME&value=VALUE"; exit 0 ;; esac
if nvram set "$key=$value" && nvram commit; then
  echo "$key=$(nvram get "$key")"
else
  echo "nvram set $key=$value failed"
fi
