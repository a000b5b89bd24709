-- ARGV: root, agentId, reason, nowMs
-- Returns 0 for an unknown agent or while Reserved / OnCall; else 1: NotReady with the reason, out of every ready set.
local id, reason, now = ARGV[2], ARGV[3], ARGV[4]
local f = redis.call('HMGET', kAgent(id), 'status', 'ready')
local status = f[1]
if not status or status == 'Reserved' or status == 'OnCall' then
  return 0
end
leaveReadySets(f[2])
setStatus(id, 'NotReady', reason, now, '')
return 1
