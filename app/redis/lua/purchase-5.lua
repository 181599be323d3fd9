--[[
  Safe purchase: everything one purchase needs, atomically, in one round trip.

  KEYS[1] stock        string, units left
  KEYS[2] product      hash: perUserLimit (0 = none), sale, sold, orders
  KEYS[3] buyers       hash: userId -> units bought
  KEYS[4] orders       stream, the SKU's order log and the outbox the order worker drains
  KEYS[5] idempotency  hash: Idempotency-Key -> "orderRef|quantity|remaining|fingerprint"

  ARGV[1] quantity      integer >= 1
  ARGV[2] userId        '' for an anonymous buyer (no per-user limit applies)
  ARGV[3] idemKey       '' when the request carries no Idempotency-Key
  ARGV[4] method        label written into the order ('safe')
  ARGV[5] token         random, unguessable: the last part of the order's reference, so that nobody can
                        find an order by counting stream ids

  Returns {code, orderRef, quantity, remaining}
     1  purchased: orderRef is "<stream entry id>:<token>"
     2  replay: the answer first given for this Idempotency-Key; no stock taken, the record is written
        again unchanged (why: below)
    -1  unknown SKU
    -2  not enough stock (remaining = what is left)
    -3  per-user limit would be exceeded (remaining = units this user may still buy)
    -4  Idempotency-Key already used with another quantity or userId
  An error reply when a counter it reads is not an integer (a hand-edited key): every check, that one
  included, comes before the first write, so a refusal or an error writes nothing.

  The order entry: q quantity, u userId, m method, k idemKey, s sale (product's `sale`: orders since the
  last reset share it), r token.
]]
local quantity = tonumber(ARGV[1])
local userId = ARGV[2]
local idemKey = ARGV[3]
local fingerprint = ARGV[1] .. '|' .. userId

if idemKey ~= '' then
  local stored = redis.call('HGET', KEYS[5], idemKey)
  if stored then
    local orderRef, qty, remaining, storedFingerprint = string.match(stored, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
    if storedFingerprint ~= fingerprint then
      return {-4, '', 0, 0}
    end
    -- The same value written back. WAIT (REDIS_WAIT_REPLICAS) is documented to cover the writes of its
    -- own connection, and the order may have been written by another one, of another instance: this
    -- write comes after the order in the replication stream, so a replica that confirms it holds the
    -- order too, and a retry is not answered 200 for an order only the primary holds. (Redis 7.0 also
    -- moves a connection's offset on a read; the write keeps this true without relying on that.)
    redis.call('HSET', KEYS[5], idemKey, stored)
    return {2, orderRef, tonumber(qty), tonumber(remaining)}
  end
end

local function integer(value, what)
  if value == false or value == nil then
    return 0
  end
  if not string.match(value, '^%-?%d+$') then
    error('corrupt ' .. what .. ': ' .. KEYS[1] .. ' or its product hash holds a non-integer')
  end
  return tonumber(value)
end

local stockText = redis.call('GET', KEYS[1])
if not stockText then
  return {-1, '', 0, 0}
end
local stock = integer(stockText, 'stock')
if stock < quantity then
  return {-2, '', 0, stock}
end

local product = redis.call('HMGET', KEYS[2], 'perUserLimit', 'sale', 'sold', 'orders')
local limit = integer(product[1], 'perUserLimit')
local sale = integer(product[2], 'sale')
integer(product[3], 'sold')
integer(product[4], 'orders')
if userId ~= '' then
  local bought = integer(redis.call('HGET', KEYS[3], userId), 'units bought')
  if limit > 0 and bought + quantity > limit then
    return {-3, '', 0, limit - bought}
  end
end

-- every check is done: from here on, only writes
if userId ~= '' then
  redis.call('HINCRBY', KEYS[3], userId, quantity)
end
local remaining = redis.call('DECRBY', KEYS[1], quantity)
redis.call('HINCRBY', KEYS[2], 'sold', quantity)
redis.call('HINCRBY', KEYS[2], 'orders', 1)
local entryId = redis.call('XADD', KEYS[4], '*', 'q', quantity, 'u', userId, 'm', ARGV[4], 'k', idemKey,
  's', sale, 'r', ARGV[5])
local orderRef = entryId .. ':' .. ARGV[5]

if idemKey ~= '' then
  redis.call('HSET', KEYS[5], idemKey, orderRef .. '|' .. quantity .. '|' .. remaining .. '|' .. fingerprint)
end

return {1, orderRef, quantity, remaining}
