-- Private netlink protocols (Broadcom's 31) the host kernel does not have:
-- with SFEMU_NETLINK_VIRTUAL_ACK (off | auto, the default | on) the guest
-- gets a virtual socket whose requests are acknowledged (NLMSG_ERROR 0) and,
-- for WLCSM, answered from the NVRAM store.  Any other socket() is the real
-- one.  docs/firmware-pack.md, "Netlink".
local vnet = require("plugins.netlink.virtual")

function do_syscall(num, domain, type, protocol, ...)
    if domain ~= 16 then return nil end                    -- AF_NETLINK only
    return vnet.socket(num, domain, type, protocol, ...)
end
