# Guest memory API: values in guest byte order (big-endian MIPS too), every
# function of both seeds, and -EFAULT (never a host crash) on bad addresses.
source "${SFEMU_SRC:?}/tests/lib.sh" || exit 1
for arch in arm mips mipsel aarch64; do
  P=$(probe $arch)
  R=$(rules_dir mem-$arch)
  cat > "$R/write.lua" <<'LUA'
function do_syscall(num, fd, buf, count, ...)
  if fd ~= -1 then return end
  local v, rc = c_read_guest_u32(buf)
  c_log(string.format("u32=0x%08x rc=%d", v, rc))
  local b, rcb = c_read_guest_bytes(buf, 4)
  local b2 = c_read_bytes(buf, 4)
  c_log(string.format("bytes=%02x%02x%02x%02x rc=%d same=%s", b:byte(1), b:byte(2), b:byte(3), b:byte(4), rcb, tostring(b == b2)))
  -- u64 over v and the next 4 bytes, written back unchanged
  local v64, r64 = c_read_guest_u64(buf)
  local w64 = c_write_guest_u64(buf, v64)
  local low = sfemu.big_endian and (v64 >> 32) or (v64 & 0xffffffff)
  c_log(string.format("u64 rw rc=%d %d part=0x%08x", r64, w64, low))
  local n, rcw = c_write_guest_bytes(buf, "\xca\xfe\xba\xbe")
  c_log(string.format("wrote n=%d rc=%d", n, rcw))
  local h = c_g2h(buf)
  c_log("h2g roundtrip=" .. tostring(c_h2g(h) == buf))
  -- bad addresses
  local s, e1 = c_read_guest_string(0, 16)
  local _, e2 = c_read_guest_u32(16)
  local e3 = c_write_guest_u32(0, 1)
  local _, e4 = c_read_bytes(8, 100)
  local _, e5 = c_write_bytes(4, "abc")
  local _, e6 = c_read_guest_u64(0xfffffff0)
  c_log(string.format("efault %d %d %d %d %d %d empty=%s", e1, e2, e3, e4, e5, e6, tostring(s == "")))
  return -9
end
LUA
  qemu $arch -rules "$R" $P endian > "$TMP/o" 2>&1; rc=$?
  expect_grep "$arch c_read_guest_u32 in guest byte order" "u32=0x11223344 rc=0" "$TMP/o"
  if [ $arch = mips ]; then
    expect_grep "$arch raw bytes are big-endian" "bytes=11223344 rc=0 same=true" "$TMP/o"
  else
    expect_grep "$arch raw bytes are little-endian" "bytes=44332211 rc=0 same=true" "$TMP/o"
  fi
  expect_grep "$arch u64 in guest byte order" "u64 rw rc=0 0 part=0x11223344" "$TMP/o"
  expect_grep "$arch c_write_guest_bytes" "wrote n=4 rc=0" "$TMP/o"
  if [ $arch = mips ]; then want=0xcafebabe; else want=0xbebafeca; fi
  expect_grep "$arch guest sees the written bytes" "value=$want" "$TMP/o"
  expect_grep "$arch c_g2h/c_h2g" "h2g roundtrip=true" "$TMP/o"
  expect_grep "$arch bad addresses give -EFAULT" "efault -14 -14 -14 -14 -14 -14 empty=true" "$TMP/o"
  expect_eq "$arch guest survives" "$rc" "0"
done
# c_read_guest_string reads up to NUL or max_len
R=$(rules_dir str)
cat > "$R/write.lua" <<'LUA'
function do_syscall(num, fd, buf, count)
  local s, rc = c_read_guest_string(buf, 5)
  local t = c_read_string(buf)
  c_log("prefix=[" .. s .. "] rc=" .. rc .. " full=" .. #t)
end
LUA
qemu arm -rules "$R" $(probe arm) write > "$TMP/o" 2>&1
expect_grep "c_read_guest_string max_len" "prefix=\[first\] rc=0" "$TMP/o"
finish
