-- ARGV: root, callId, nowMs, tombstoneTtlMs
-- Waiting call: leaves its queue. Reserved call: the reservation is cancelled and the agent is Ready again with its
-- old idle time (back at its old place in line). Both: the call is gone (tombstoned), it lands on the 漏接回拨 list
-- (reason 放弃 while waiting, 漏接 while ringing at an agent) in the same step, and 1 is returned. Else 0 — also for a
-- virtual callback entry (its caller hung up on purpose; it keeps its place).
local callId, now, ttl = ARGV[2], ARGV[3], ARGV[4]
local f = redis.call('HMGET', kCall(callId), 'stage', 'skill', 'agent', 'cb')
local reason, agent = '放弃', ''
if f[4] == '1' then
  return 0
elseif f[1] == 'Waiting' then
  waitRemove(f[2], callId)
elseif f[1] == 'Reserved' then
  redis.call('ZREM', kReservations, callId)
  becomeReady(f[3], redis.call('HGET', kAgent(f[3]), 'idle'))
  reason, agent = '漏接', f[3]
else
  return 0
end
local c = redis.call('HMGET', kCall(callId), 'caller', 'dialled', 'enq')
redis.call('HSET', kMissedCall(callId), 'id', callId, 'caller', c[1], 'dialled', c[2], 'skill', f[2], 'enq', c[3], 'at', now,
  'reason', reason, 'agent', agent, 'claimedBy', '', 'claimedAt', '', 'attempts', 0, 'result', '')
redis.call('ZADD', kMissed, now, callId)
bury(callId, ttl)
return 1
