-- ARGV: root, nowMs, expiresMs, max, then per overflow rule: fromSkill, cutoffMs (now - threshold), targets ("\n"-joined)
-- Repeats at most `max` times: over all skills having a ready agent, the candidates are the skill's own head call and, per
-- overflow rule into that skill, the best call of the rule's skill that was enqueued at or before the cutoff. The best
-- candidate (lowest score, then lowest id; the same call reachable twice prefers its own skill, then the byte-wise smaller
-- serving skill) is reserved to the longest-idle ready agent of the serving skill (lowest idle, then id). The call leaves
-- its own queue only here, so it is never in two places.
-- Returns one row per offer: callId, agentId, servingSkill, caller, dialled, priority, enqueuedMs, attrs, callSkill, callback.
local now, expires, max = ARGV[2], ARGV[3], tonumber(ARGV[4])
local feeds = {}
for i = 5, #ARGV, 3 do
  for t in string.gmatch(ARGV[i + 2], '[^\n]+') do
    feeds[t] = feeds[t] or {}
    feeds[t][#feeds[t] + 1] = { ARGV[i], ARGV[i + 1] }
  end
end

-- The best call of `from` enqueued at or before `cutoff` (O(eligible calls)).
local function bestOld(from, cutoff)
  local best, bestScore = nil, nil
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', kWaitingSince(from), '-inf', cutoff)) do
    local sc = tonumber(redis.call('ZSCORE', kWaiting(from), id))
    if best == nil or sc < bestScore or (sc == bestScore and bytesLess(id, best)) then
      best, bestScore = id, sc
    end
  end
  return best, bestScore
end

local skills = redis.call('SMEMBERS', kSkills)
local offers = {}
while #offers < max do
  local bestSkill, bestCall, bestScore, bestFrom = nil, nil, nil, nil
  local function consider(serving, id, score, from)
    local better
    if bestScore == nil or score < bestScore then
      better = true
    elseif score > bestScore then
      better = false
    elseif id ~= bestCall then
      better = bytesLess(id, bestCall)
    else -- the same call through another serving skill
      better = bestSkill ~= bestFrom and (serving == from or bytesLess(serving, bestSkill))
    end
    if better then
      bestSkill, bestCall, bestScore, bestFrom = serving, id, score, from
    end
  end
  for _, s in ipairs(skills) do
    if redis.call('ZCARD', kReady(s)) > 0 then
      local head = redis.call('ZRANGE', kWaiting(s), 0, 0, 'WITHSCORES')
      if #head > 0 then
        consider(s, head[1], tonumber(head[2]), s)
      end
      for _, f in ipairs(feeds[s] or {}) do
        if f[1] ~= s then
          local id, sc = bestOld(f[1], f[2])
          if id then
            consider(s, id, sc, f[1])
          end
        end
      end
    end
  end
  if not bestSkill then
    break
  end
  local agentId = redis.call('ZRANGE', kReady(bestSkill), 0, 0)[1]
  leaveReadySets(agentId)
  redis.call('ZREM', kWaiting(bestFrom), bestCall)
  redis.call('ZREM', kWaitingSince(bestFrom), bestCall)
  redis.call('ZADD', kReservations, expires, bestCall)
  redis.call('HSET', kCall(bestCall), 'stage', 'Reserved', 'agent', agentId, 'offered', now, 'expires', expires)
  setStatus(agentId, 'Reserved', '', now, bestCall)
  local row = callRow(bestCall)
  offers[#offers + 1] = { bestCall, agentId, bestSkill, row[2], row[3], row[5], row[6], row[7], row[4],
    redis.call('HGET', kCall(bestCall), 'cb') or '' }
end
return offers
