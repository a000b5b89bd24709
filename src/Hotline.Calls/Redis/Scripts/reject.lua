-- ARGV: root, agentId, callId, nowMs, reason
-- Returns 1 when the call was reserved to this agent: call back at its old place, agent NotReady (reason). Else 0.
local agentId, callId, now, reason = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local f = redis.call('HMGET', kCall(callId), 'stage', 'agent')
if f[1] ~= 'Reserved' or f[2] ~= agentId then
  return 0
end
requeue(callId)
setStatus(agentId, 'NotReady', reason, now, '')
return 1
