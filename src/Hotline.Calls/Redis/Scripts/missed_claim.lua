-- ARGV: root, callId, agentId, nowMs
-- Returns 1 when the agent now holds the 漏接回拨 entry (it was free, or already its own); 0 when another agent holds it or it is gone.
local id, agent, now = ARGV[2], ARGV[3], ARGV[4]
local holder = redis.call('HGET', kMissedCall(id), 'claimedBy')
if not holder or (holder ~= '' and holder ~= agent) then
  return 0
end
if holder == '' then
  redis.call('HSET', kMissedCall(id), 'claimedBy', agent, 'claimedAt', now)
end
return 1
