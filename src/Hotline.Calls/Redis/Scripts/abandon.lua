-- ARGV: root, callId, nowMs, tombstoneTtlMs
-- Waiting call: leaves its queue. Reserved call: the reservation is cancelled and the agent is Ready again with its
-- old idle time (back at its old place in line). Both: the call is gone (tombstoned) and 1 is returned. Else 0.
local callId, now, ttl = ARGV[2], ARGV[3], ARGV[4]
local f = redis.call('HMGET', kCall(callId), 'stage', 'skill', 'agent')
if f[1] == 'Waiting' then
  redis.call('ZREM', kWaiting(f[2]), callId)
  redis.call('ZREM', kWaitingSince(f[2]), callId)
elseif f[1] == 'Reserved' then
  redis.call('ZREM', kReservations, callId)
  becomeReady(f[3], redis.call('HGET', kAgent(f[3]), 'idle'))
else
  return 0
end
bury(callId, ttl)
return 1
