-- ARGV: root, callId
-- The caller accepted a callback: a waiting call becomes a virtual entry at the same place (field cb = 1).
-- Returns 1, or 0 when the call is not waiting or already a callback.
local id = ARGV[2]
local f = redis.call('HMGET', kCall(id), 'stage', 'cb')
if f[1] ~= 'Waiting' or f[2] == '1' then
  return 0
end
redis.call('HSET', kCall(id), 'cb', '1')
return 1
