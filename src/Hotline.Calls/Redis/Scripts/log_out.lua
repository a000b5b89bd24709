-- ARGV: root, agentId, nowMs
-- Returns the id of a reservation sent back to the queue (at its old place), '' otherwise; 0 for an unknown agent.
-- A connected call stays connected; end_call later leaves the logged-out agent alone.
local id, now = ARGV[2], ARGV[3]
local f = redis.call('HMGET', kAgent(id), 'status', 'call', 'ready')
if not f[1] then
  return 0
end
local requeued = ''
if f[1] == 'Reserved' then
  requeue(f[2])
  requeued = f[2]
end
leaveReadySets(f[3])
setStatus(id, 'LoggedOut', '', now, '')
return requeued
