-- ARGV: root, callId, agentId, nowMs, result, done ('1' / '0')
-- Only the claiming agent: done → the entry leaves the list; not done → released for another attempt (attempts + 1).
-- Returns 1, or 0 when the agent does not hold the claim.
local id, agent, result, done = ARGV[2], ARGV[3], ARGV[5], ARGV[6]
if redis.call('HGET', kMissedCall(id), 'claimedBy') ~= agent then
  return 0
end
if done == '1' then
  redis.call('ZREM', kMissed, id)
  redis.call('DEL', kMissedCall(id))
else
  redis.call('HINCRBY', kMissedCall(id), 'attempts', 1)
  redis.call('HSET', kMissedCall(id), 'claimedBy', '', 'claimedAt', '', 'result', result)
end
return 1
