--[[
  Safe purchase: everything one purchase needs, atomically, in one round trip.

  KEYS[1] stock        string, units left
  KEYS[2] product      hash: perUserLimit (0 = none), sold
  KEYS[3] buyers       hash: userId -> units bought
  KEYS[4] orders       stream, the SKU's order log
  KEYS[5] idempotency  hash: Idempotency-Key -> "orderId|quantity|remaining|fingerprint"

  ARGV[1] quantity      integer >= 1
  ARGV[2] userId        '' for an anonymous buyer (no per-user limit applies)
  ARGV[3] idemKey       '' when the request carries no Idempotency-Key
  ARGV[4] method        label written into the order ('safe')

  Returns {code, orderId, quantity, remaining}
     1  purchased: orderId is the new order's stream id
     2  replay: the answer first given for this Idempotency-Key; no stock taken, the record is written
        again unchanged (why: below)
    -1  unknown SKU
    -2  not enough stock (remaining = what is left)
    -3  per-user limit would be exceeded (remaining = units this user may still buy)
    -4  Idempotency-Key already used with another quantity or userId
]]
local quantity = tonumber(ARGV[1])
local userId = ARGV[2]
local idemKey = ARGV[3]
local fingerprint = ARGV[1] .. '|' .. userId

if idemKey ~= '' then
  local stored = redis.call('HGET', KEYS[5], idemKey)
  if stored then
    local orderId, qty, remaining, storedFingerprint = string.match(stored, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
    if storedFingerprint ~= fingerprint then
      return {-4, '', 0, 0}
    end
    -- The same value written back. WAIT (REDIS_WAIT_REPLICAS) is documented to cover the writes of its
    -- own connection, and the order may have been written by another one, of another instance: this
    -- write comes after the order in the replication stream, so a replica that confirms it holds the
    -- order too, and a retry is not answered 200 for an order only the primary holds. (Redis 7.0 also
    -- moves a connection's offset on a read; the write keeps this true without relying on that.)
    redis.call('HSET', KEYS[5], idemKey, stored)
    return {2, orderId, tonumber(qty), tonumber(remaining)}
  end
end

local stock = redis.call('GET', KEYS[1])
if not stock then
  return {-1, '', 0, 0}
end
stock = tonumber(stock)
if stock < quantity then
  return {-2, '', 0, stock}
end

if userId ~= '' then
  local limit = tonumber(redis.call('HGET', KEYS[2], 'perUserLimit') or '0')
  if limit > 0 then
    local bought = tonumber(redis.call('HGET', KEYS[3], userId) or '0')
    if bought + quantity > limit then
      return {-3, '', 0, limit - bought}
    end
  end
  redis.call('HINCRBY', KEYS[3], userId, quantity)
end

local remaining = redis.call('DECRBY', KEYS[1], quantity)
redis.call('HINCRBY', KEYS[2], 'sold', quantity)
local orderId = redis.call('XADD', KEYS[4], '*', 'q', quantity, 'u', userId, 'm', ARGV[4], 'k', idemKey)

if idemKey ~= '' then
  redis.call('HSET', KEYS[5], idemKey, orderId .. '|' .. quantity .. '|' .. remaining .. '|' .. fingerprint)
end

return {1, orderId, quantity, remaining}
