-- ARGV: root, nowMs, expiresMs, max, then per overflow rule: fromSkill, cutoffMs (now - threshold), targets ("\n"-joined)
-- Repeats at most `max` times: over all skills having a ready agent, the candidates are the skill's own head call and, per
-- overflow rule into that skill, the best call of the rule's skill that was enqueued at or before the cutoff. The best
-- candidate (lowest score, then lowest id; the same call reachable twice prefers its own skill, then the byte-wise smaller
-- serving skill) is reserved to the longest-idle ready agent of the serving skill (lowest idle, then id). The call leaves
-- its own queue only here, so it is never in two places.
-- Cost per offer, not per skill: `heads` gives every queue's head in one command (best first), so the own-group
-- candidate is the first head whose skill has a ready agent; an overflow rule is looked at only when its skill's head
-- could beat that candidate and its skill has no ready agent of its own (then its own head would win), and its best
-- old call costs one command per priority band (see bestOld). Ready heads are read once per round (cached); a ready
-- member names the agent and all its skills (see leaveReadySets), so taking the agent out of line needs no read of its
-- skills. (ZPOPMIN instead of ZRANGE + ZREM was measured dearer: Redis formats the popped score with snprintf.)
-- Lua-side costs count too (callgrind, per run): a closure ~0.5k instructions, a table ~0.7k, a string.* call ~0.9k,
-- a gmatch loop ~5k; so the overflow helpers are only built when there are rules, and the no-rules path keeps to a few.
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

-- Overflow helpers, built only when there are rules.
local bestOld, scoreOf, notWorse, consider
local bestSkill, bestCall, bestScore, bestFrom
if #rules > 0 then
  -- One priority band of waiting scores: score = -priority * 2^43 + enqueuedMs (CallQueueRules.WaitingScore).
  local BAND = 8796093022208

  -- Byte-wise a < b (Lua's own < follows the server's LC_COLLATE, which Redis takes from its environment).
  local function bytesLess(a, b)
    local n = math.min(#a, #b)
    for i = 1, n do
      local x, y = string.byte(a, i), string.byte(b, i)
      if x ~= y then return x < y end
    end
    return #a < #b
  end

  -- The best call of `skill` enqueued at or before `cutoff`. Within a priority band the queue is in enqueue order, so the
  -- band's first call is its oldest: if it is too young the whole band is, and the walk jumps to the next band. One
  -- command per band visited (bands are the distinct priorities waiting, a handful), whatever the queue's length.
  bestOld = function(skill, cutoff)
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
  scoreOf = function(id)
    return tonumber(redis.call('HGET', kCall(id), 'score'))
  end

  -- (score, id) before (bestScore, bestCall), or the same call: a candidate that may still win the tie-break.
  notWorse = function(score, id)
    return bestScore == nil or score < bestScore or (score == bestScore and not bytesLess(bestCall, id))
  end

  consider = function(serving, id, score, from)
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
end

-- Ready heads (members: agentId \0 skills), read at most once per skill and round (with rules: cached in readyHead;
-- without, the first one found is served and each skill is read once anyway).
local readyHead
local function readyAgent(s)
  local a = readyHead and readyHead[s]
  if a == nil then
    a = redis.call('ZRANGE', kReady(s), '0', '0')[1] or false
    if readyHead then
      readyHead[s] = a
    end
  end
  return a
end

local offers = {}
while #offers < max do
  readyHead = #rules > 0 and {} or nil
  bestSkill, bestCall, bestScore, bestFrom = nil, nil, nil, nil

  -- Own groups: the first head (best first) whose skill has a ready agent; no score is read for it. Without overflow
  -- rules the best head alone is read first (the usual case: its group has someone ready), the rest only if needed.
  local heads = redis.call('ZRANGE', kHeads, '0', #rules == 0 and '0' or '-1')
  local headAt = #rules > 0 and {} or nil
  local bestAt, bestMember, bestAgent
  local i = 1
  while true do
    local m = heads[i]
    if m == nil then
      if headAt or bestAt or i > 2 or #heads == 0 then
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
    if headAt then
      headAt[skill] = i
    end
    local a = bestAt == nil and readyAgent(skill)
    if a then
      bestAt, bestSkill, bestCall, bestFrom, bestMember, bestAgent = i, skill, string.sub(m, 1, sep - 1), skill, m, a
      if not headAt then
        break
      end
    end
    i = i + 1
  end

  -- Overflow: a rule's calls are no better than its skill's head, so a rule whose head comes after the own-group
  -- candidate on `heads`, or whose skill has a ready agent of its own (its head then wins), costs no command.
  if headAt then
    local ownCall = bestCall
    for _, r in ipairs(rules) do
      local from = r[1]
      local at = headAt[from]
      if at and (bestAt == nil or at <= bestAt or bestFrom ~= bestSkill) and not readyAgent(from) then
        if bestCall and not bestScore then
          bestScore = scoreOf(bestCall)
        end
        local m = heads[at]
        local headId = string.sub(m, 1, string.find(m, '\0', 1, true) - 1)
        if notWorse(scoreOf(headId), headId) then
          local id, score = bestOld(from, r[2])
          if id and notWorse(score, id) then
            for _, t in ipairs(r[3]) do
              if readyAgent(t) then
                consider(t, id, score, from)
              end
            end
          end
        end
      end
    end
    if bestFrom ~= bestSkill or bestCall ~= ownCall then
      bestMember = nil -- an overflow candidate won: not the own-group head read above
    end
  end

  if not bestSkill then
    break
  end
  local member = headAt and readyAgent(bestSkill) or bestAgent
  local sep = string.find(member, '\0', 1, true)
  local agentId = string.sub(member, 1, sep - 1)
  if #member == sep + #bestSkill then
    redis.call('ZREM', kReady(bestSkill), member) -- its only skill
  else
    leaveReadySets(member, sep)
  end
  waitRemove(bestFrom, bestCall, bestMember)
  redis.call('ZADD', kReservations, expires, bestCall)
  local c = kCall(bestCall)
  local row = redis.call('HMGET', c, 'caller', 'dialled', 'prio', 'enq', 'attrs', 'cb')
  redis.call('HSET', c, 'stage', 'Reserved', 'agent', agentId, 'offered', now, 'expires', expires)
  -- the agent was Ready, so its reason is '' already (becomeReady)
  redis.call('HSET', kAgent(agentId), 'status', 'Reserved', 'since', now, 'call', bestCall)
  offers[#offers + 1] = { bestCall, agentId, bestSkill, row[1], row[2], row[3], row[4], row[5], bestFrom, row[6] or '' }
end
return offers
