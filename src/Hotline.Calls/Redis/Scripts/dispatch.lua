-- ARGV: root, nowMs, expiresMs, max
-- Repeats at most `max` times: over all skills having a waiting call and a ready agent, take the best head call
-- (lowest score, then lowest id) and reserve it to the longest-idle ready agent of that skill (lowest idle, then id).
-- Returns one row per offer: callId, agentId, skill, caller, dialled, priority, enqueuedMs, attrs.
local now, expires, max = ARGV[2], ARGV[3], tonumber(ARGV[4])
local skills = redis.call('SMEMBERS', kSkills)
local offers = {}
while #offers < max do
  local bestSkill, bestCall, bestScore = nil, nil, nil
  for _, s in ipairs(skills) do
    local head = redis.call('ZRANGE', kWaiting(s), 0, 0, 'WITHSCORES')
    if #head > 0 then
      local score = tonumber(head[2])
      if bestScore == nil or score < bestScore or (score == bestScore and bytesLess(head[1], bestCall)) then
        if redis.call('ZCARD', kReady(s)) > 0 then
          bestSkill, bestCall, bestScore = s, head[1], score
        end
      end
    end
  end
  if not bestSkill then
    break
  end
  local agentId = redis.call('ZRANGE', kReady(bestSkill), 0, 0)[1]
  leaveReadySets(agentId)
  redis.call('ZREM', kWaiting(bestSkill), bestCall)
  redis.call('ZREM', kWaitingSince(bestSkill), bestCall)
  redis.call('ZADD', kReservations, expires, bestCall)
  redis.call('HSET', kCall(bestCall), 'stage', 'Reserved', 'agent', agentId, 'offered', now, 'expires', expires)
  setStatus(agentId, 'Reserved', '', now, bestCall)
  local row = callRow(bestCall)
  offers[#offers + 1] = { bestCall, agentId, bestSkill, row[2], row[3], row[5], row[6], row[7] }
end
return offers
