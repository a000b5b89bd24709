-- Shared helpers, prepended (after the generated key builders) to every script.
-- Times are Unix ms strings computed by the client; scripts copy them, never format numbers.

-- Takes the agent out of the ready set of each of its skills.
local function leaveReadySets(agentId)
  for _, s in ipairs(redis.call('HKEYS', kAgentSkills(agentId))) do
    redis.call('ZREM', kReady(s), agentId)
  end
end

-- Makes the agent Ready, idle since `idle`, in the ready set of each of its skills.
local function becomeReady(agentId, idle)
  for _, s in ipairs(redis.call('HKEYS', kAgentSkills(agentId))) do
    redis.call('ZADD', kReady(s), idle, agentId)
  end
  redis.call('HSET', kAgent(agentId), 'status', 'Ready', 'reason', '', 'since', idle, 'idle', idle, 'call', '')
end

-- Sets a non-ready status (the caller has already left the ready sets or never was in them).
local function setStatus(agentId, status, reason, now, callId)
  redis.call('HSET', kAgent(agentId), 'status', status, 'reason', reason, 'since', now, 'call', callId)
end

-- A reserved call goes back to its skill queue at its original place (same score, same enqueue time).
local function requeue(callId)
  local c = kCall(callId)
  local f = redis.call('HMGET', c, 'skill', 'score', 'enq')
  redis.call('ZREM', kReservations, callId)
  redis.call('ZADD', kWaiting(f[1]), f[2], callId)
  redis.call('ZADD', kWaitingSince(f[1]), f[3], callId)
  redis.call('HSET', c, 'stage', 'Waiting', 'agent', '', 'offered', '', 'expires', '')
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

-- Byte-wise a < b (Lua's own < follows the server's LC_COLLATE, which Redis takes from its environment).
local function bytesLess(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
