-- reboot(2), every command (RESTART, HALT, POWER_OFF, CAD_ON ...): qemu may
-- run as root, so the host would reboot.  Neutralised (returns 0) and
-- logged once (docs/firmware-pack.md, "Process life").
local life = require("base.proclife")

function do_syscall(num, magic1, magic2, cmd)
  return life.neutralised("reboot", life.reboot_what(cmd))
end
