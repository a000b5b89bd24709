-- ARGV: root, nowMs, expiresMs, max, then per overflow rule: fromSkill, cutoffMs (now - threshold), targets ("\n"-joined)
-- Repeats at most `max` times: over all skills having a ready agent, the candidates are the skill's own head call and, per
-- overflow rule into that skill, the best call of the rule's skill that was enqueued at or before the cutoff. The best
-- candidate (lowest score, then lowest id; the same call reachable twice prefers its own skill, then the byte-wise smaller
-- serving skill) is reserved to the longest-idle ready agent of the serving skill (lowest idle, then id). The call leaves
-- its own queue only here, so it is never in two places.
-- Cost per offer, not per skill: `heads` gives every queue's head in one command (best first), so the own-group
-- candidate is the first head whose skill has a ready agent; an overflow rule is looked at only when its skill's head
-- could beat that candidate and its skill has no ready agent of its own (then its own head would win), and its best
-- old call costs one command per priority band (see bestOld). Ready heads are read once per round (cached).
-- Returns one row per offer: callId, agentId, servingSkill, caller, dialled, priority, enqueuedMs, attrs, callSkill, callback.
local now, expires, max = ARGV[2], ARGV[3], tonumber(ARGV[4])
local rules = {}
for i = 5, #ARGV, 3 do
  local targets = {}
  for t in string.gmatch(ARGV[i + 2], '[^\n]+') do
    if t ~= ARGV[i] then
      targets[#targets + 1] = t
    end
  end
  rules[#rules + 1] = { ARGV[i], tonumber(ARGV[i + 1]), targets }
end

-- One priority band of waiting scores: score = -priority * 2^43 + enqueuedMs (CallQueueRules.WaitingScore).
local BAND = 8796093022208

-- The best call of `skill` enqueued at or before `cutoff`. Within a priority band the queue is in enqueue order, so the
-- band's first call is its oldest: if it is too young the whole band is, and the walk jumps to the next band. One
-- command per band visited (bands are the distinct priorities waiting, a handful), whatever the queue's length.
local function bestOld(skill, cutoff)
  local from = '-inf'
  while true do
    local h = redis.call('ZRANGEBYSCORE', kWaiting(skill), from, '+inf', 'WITHSCORES', 'LIMIT', '0', '1')
    if #h == 0 then
      return nil
    end
    local score = tonumber(h[2])
    local band = math.floor(score / BAND) * BAND
    if score - band <= cutoff then
      return h[1], score
    end
    from = string.format('%.17g', band + BAND) -- an integer below 2^53: printed exactly
  end
end

-- A waiting call's score, from its own `score` field (the string its ZSET entries were given; no double formatting).
local function scoreOf(id)
  return tonumber(redis.call('HGET', kCall(id), 'score'))
end

-- (score, id) before (bestScore, bestCall), or the same call: a candidate that may still win the tie-break.
local function notWorse(score, id, bestScore, bestCall)
  return bestScore == nil or score < bestScore or (score == bestScore and not bytesLess(bestCall, id))
end

-- Ready heads, read at most once per skill and round.
local readyHead
local function readyAgent(s)
  local a = readyHead[s]
  if a == nil then
    a = redis.call('ZRANGE', kReady(s), '0', '0')[1] or false
    readyHead[s] = a
  end
  return a
end

local bestSkill, bestCall, bestScore, bestFrom
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

local offers = {}
while #offers < max do
  readyHead = {}
  bestSkill, bestCall, bestScore, bestFrom = nil, nil, nil, nil

  -- Own groups: the first head (best first) whose skill has a ready agent; no score is read for it. Without overflow
  -- rules the best head alone is read first (the usual case: its group has someone ready), the rest only if needed.
  local heads = redis.call('ZRANGE', kHeads, '0', #rules == 0 and '0' or '-1')
  local headAt, bestAt = {}, nil
  local i = 1
  while true do
    local m = heads[i]
    if m == nil then
      if #rules > 0 or bestAt or i > 2 or #heads == 0 then
        break
      end
      heads = redis.call('ZRANGE', kHeads, '0', '-1') -- heads[1] had nobody ready: look at the others
      m = heads[i]
      if m == nil then
        break
      end
    end
    local sep = string.find(m, '\0', 1, true)
    local skill = string.sub(m, sep + 1)
    headAt[skill] = i
    if bestAt == nil and readyAgent(skill) then
      bestAt, bestSkill, bestCall, bestFrom = i, skill, string.sub(m, 1, sep - 1), skill
      if #rules == 0 then
        break
      end
    end
    i = i + 1
  end

  -- Overflow: a rule's calls are no better than its skill's head, so a rule whose head comes after the own-group
  -- candidate on `heads`, or whose skill has a ready agent of its own (its head then wins), costs no command.
  for _, r in ipairs(rules) do
    local from = r[1]
    local at = headAt[from]
    if at and (bestAt == nil or at <= bestAt or bestFrom ~= bestSkill) and not readyAgent(from) then
      if bestCall and not bestScore then
        bestScore = scoreOf(bestCall)
      end
      local m = heads[at]
      local headId = string.sub(m, 1, string.find(m, '\0', 1, true) - 1)
      if notWorse(scoreOf(headId), headId, bestScore, bestCall) then
        local id, score = bestOld(from, r[2])
        if id and notWorse(score, id, bestScore, bestCall) then
          for _, t in ipairs(r[3]) do
            if readyAgent(t) then
              consider(t, id, score, from)
            end
          end
        end
      end
    end
  end

  if not bestSkill then
    break
  end
  local agentId = readyAgent(bestSkill)
  leaveReadySets(agentId)
  waitRemove(bestFrom, bestCall)
  redis.call('ZADD', kReservations, expires, bestCall)
  local c = kCall(bestCall)
  local row = redis.call('HMGET', c, 'caller', 'dialled', 'prio', 'enq', 'attrs', 'cb')
  redis.call('HSET', c, 'stage', 'Reserved', 'agent', agentId, 'offered', now, 'expires', expires)
  setStatus(agentId, 'Reserved', '', now, bestCall)
  offers[#offers + 1] = { bestCall, agentId, bestSkill, row[1], row[2], row[3], row[4], row[5], bestFrom, row[6] or '' }
end
return offers
