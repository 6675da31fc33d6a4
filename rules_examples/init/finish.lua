-- The file operations the init script makes (symlink, create, rename; mkdir
-- is logged by its rule),
-- whatever process makes them (the shell's own redirections and applets,
-- or cp, tar, ln ...): one "init: + ..." line each, after they succeed.
local L = require("lib.initprep")
local s = L.str

local function creates(flags)
  return flags & L.O_CREAT ~= 0
end

local log = {
  symlink = function(a1, a2) L.say("+ symlink " .. s(a2) .. " -> " .. s(a1)) end,
  symlinkat = function(a1, a2, a3)
    L.say("+ symlink " .. s(a3) .. " -> " .. s(a1))
  end,
  open = function(a1, a2)
    if creates(a2) then L.say("+ write " .. s(a1)) end
  end,
  openat = function(a1, a2, a3)
    if creates(a3) then L.say("+ write " .. s(a2)) end
  end,
  rename = function(a1, a2) L.say("+ rename " .. s(a1) .. " " .. s(a2)) end,
  renameat = function(a1, a2, a3, a4)
    L.say("+ rename " .. s(a2) .. " " .. s(a4))
  end,
}
log.renameat2 = log.renameat

function finish(num, name, ret, intercepted, a1, a2, a3, a4)
  local f = log[name]
  if f and ret >= 0 and not intercepted then
    f(a1, a2, a3, a4)
  end
end
