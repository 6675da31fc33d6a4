-- The default tree's name for the process-life module; its code is
-- rules_examples/init/lib/proclife.lua, which the init replay's tree
-- (rules_examples/init, a tree of its own) can reach too.
return require("init.lib.proclife")
