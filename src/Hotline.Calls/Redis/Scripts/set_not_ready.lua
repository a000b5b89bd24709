-- ARGV: root, agentId, reason, nowMs
-- Returns 0 for an unknown agent or while Reserved / OnCall; else 1: NotReady with the reason, out of every ready set.
local id, reason, now = ARGV[2], ARGV[3], ARGV[4]
local status = redis.call('HGET', kAgent(id), 'status')
if not status or status == 'Reserved' or status == 'OnCall' then
  return 0
end
leaveReadySets(id)
setStatus(id, 'NotReady', reason, now, '')
return 1
