-- ARGV: root, nowMs, limit, reason
-- Up to `limit` reservations with expiry <= now: call back at its old place, agent NotReady (reason).
-- Returns one row per expired offer: callId, agentId, skill, offeredMs, expiresMs, caller, dialled, priority, enqueuedMs, attrs.
local now, limit, reason = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local due = redis.call('ZRANGEBYSCORE', kReservations, '-inf', now, 'LIMIT', 0, limit)
local rows = {}
for _, callId in ipairs(due) do
  local f = redis.call('HMGET', kCall(callId), 'agent', 'skill', 'offered', 'expires')
  local row = callRow(callId)
  rows[#rows + 1] = { callId, f[1], f[2], f[3], f[4], row[2], row[3], row[5], row[6], row[7] }
  requeue(callId)
  setStatus(f[1], 'NotReady', reason, now, '')
end
return rows
