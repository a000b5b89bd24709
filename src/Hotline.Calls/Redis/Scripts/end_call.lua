-- ARGV: root, callId, nowMs, tombstoneTtlMs
-- Returns 1 when the call was connected: it is gone (tombstoned), its agent goes to WrapUp (if still on this call). Else 0.
local callId, now, ttl = ARGV[2], ARGV[3], ARGV[4]
local f = redis.call('HMGET', kCall(callId), 'stage', 'agent')
if f[1] ~= 'Connected' then
  return 0
end
redis.call('SREM', kConnected, callId)
local a = redis.call('HMGET', kAgent(f[2]), 'status', 'call')
if a[1] == 'OnCall' and a[2] == callId then
  setStatus(f[2], 'WrapUp', '', now, '')
end
bury(callId, ttl)
return 1
