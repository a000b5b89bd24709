-- ARGV: root, agentId, callId, nowMs
-- Returns 1 when the call was reserved to this agent: call Connected, agent OnCall. Else 0, nothing changes.
local agentId, callId, now = ARGV[2], ARGV[3], ARGV[4]
local f = redis.call('HMGET', kCall(callId), 'stage', 'agent')
if f[1] ~= 'Reserved' or f[2] ~= agentId then
  return 0
end
redis.call('ZREM', kReservations, callId)
redis.call('SADD', kConnected, callId)
redis.call('HSET', kCall(callId), 'stage', 'Connected')
setStatus(agentId, 'OnCall', '', now, callId)
return 1
