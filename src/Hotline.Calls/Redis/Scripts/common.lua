-- Shared helpers, prepended (after the generated key builders) to every script.
-- Times are Unix ms strings computed by the client; scripts copy them, never format numbers.

-- A ready agent's member in its ready sets names the agent and all its skills: agentId \0 skill \0 skill ... (neither may
-- contain NUL), the same string in each set, also kept in the agent's `ready` field. So whoever takes an agent out of line
-- (dispatch reads the member from the ready set) knows every set it is in without reading its skills. ZSET ties (same
-- score) go by member bytes: the agent id ordinal, as before (NUL sorts below every other byte).
-- Takes a ready member (or false) out of the ready sets of its skills; `sep`: the position of its first NUL if known.
-- A member no longer in line (the stale `ready` field of an agent not Ready) is in no set: nothing happens.
-- (string.find rather than a gmatch loop: ~5k instructions less per run.)
local function leaveReadySets(member, sep)
  if not member then
    return
  end
  local from = (sep or string.find(member, '\0', 1, true)) + 1
  while true do
    local to = string.find(member, '\0', from, true)
    redis.call('ZREM', kReady(string.sub(member, from, to and to - 1)), member)
    if not to then
      return
    end
    from = to + 1
  end
end

-- The agent's ready-score offsets (level-first skills only; see agentrank), as a table skill -> number.
local function rankOffsets(agentId)
  local r = redis.call('HGETALL', kAgentRank(agentId))
  local t = {}
  for i = 1, #r, 2 do
    t[r[i]] = tonumber(r[i + 1])
  end
  return t
end

-- Makes the agent Ready, idle since `idle`, in the ready set of each of its skills: scored `idle` (longest idle first), or in a
-- level-first group offset + idle (highest level, then longest idle; below 2^47, printed exactly by Lua's %.17g).
local function becomeReady(agentId, idle)
  local rank = rankOffsets(agentId)
  local skills = redis.call('HKEYS', kAgentSkills(agentId))
  local member = agentId .. '\0' .. table.concat(skills, '\0')
  for _, s in ipairs(skills) do
    local o = rank[s]
    redis.call('ZADD', kReady(s), o and o + tonumber(idle) or idle, member)
  end
  redis.call('HSET', kAgent(agentId), 'status', 'Ready', 'reason', '', 'since', idle, 'idle', idle, 'call', '', 'ready', member)
end

-- Sets a non-ready status (the caller has already left the ready sets or never was in them).
local function setStatus(agentId, status, reason, now, callId)
  redis.call('HSET', kAgent(agentId), 'status', status, 'reason', reason, 'since', now, 'call', callId)
end


-- The call is gone: its hash is deleted and a tombstone keeps enqueue idempotent for ttl ms.
local function bury(callId, ttl)
  redis.call('DEL', kCall(callId))
  redis.call('SET', kGone(callId), '1', 'PX', ttl)
end

-- The fields the client needs to rebuild a QueuedCall, in a fixed order.
local function callRow(callId)
  return redis.call('HMGET', kCall(callId), 'id', 'caller', 'dialled', 'skill', 'prio', 'enq', 'attrs')
end

-- The head of every non-empty waiting queue is also on `heads` (member callId .. '\0' .. skill, the head's waiting
-- score), so dispatch reads the best head of all skills with one command instead of one per skill. ZSET order is
-- score, then member bytes: the lower call id first on equal scores, the same tie-break as dispatch.
-- waitAdd / waitRemove are the only writers of waiting:{skill} and heads.
-- Cost notes (callgrind on redis-server 7.0): a redis.call costs ~6k instructions, a number passed as an argument ~2k
-- (Lua formats it with printf), a score returned by WITHSCORES ~2k, a Lua string or table built per run ~1-5k with
-- its share of GC. Hence string literals for ranks, and few calls, strings and tables on the dispatch path.
local function headMember(skill, callId)
  return callId .. '\0' .. skill
end

-- Puts a call that is not in waiting:{skill} there (score: the string stored in the call's `score` field).
local function waitAdd(skill, callId, score)
  local w = kWaiting(skill)
  redis.call('ZADD', w, score, callId)
  if redis.call('ZRANK', w, callId) == 0 then
    local old = redis.call('ZRANGE', w, '1', '1')[1]
    if old then
      redis.call('ZREM', kHeads, headMember(skill, old))
    end
    redis.call('ZADD', kHeads, score, headMember(skill, callId))
  end
end

-- Takes a call out of waiting:{skill}; when it was the head, the next call becomes the skill's head on `heads`.
-- `member`: headMember(skill, callId) when the caller has it already (dispatch read it from `heads`), else nil.
local function waitRemove(skill, callId, member)
  local w = kWaiting(skill)
  redis.call('ZREM', w, callId)
  if redis.call('ZREM', kHeads, member or headMember(skill, callId)) == 1 then
    local h = redis.call('ZRANGE', w, '0', '0', 'WITHSCORES')
    if h[1] then
      redis.call('ZADD', kHeads, h[2], headMember(skill, h[1]))
    end
  end
end

-- A reserved call goes back to its skill queue at its original place (same score, same enqueue time).
local function requeue(callId)
  local c = kCall(callId)
  local f = redis.call('HMGET', c, 'skill', 'score')
  redis.call('ZREM', kReservations, callId)
  waitAdd(f[1], callId, f[2])
  redis.call('HSET', c, 'stage', 'Waiting', 'agent', '', 'offered', '', 'expires', '')
end
