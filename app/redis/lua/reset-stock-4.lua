--[[
  Reset a SKU to a given stock and start a new sale, atomically: no purchase can land between the new
  stock and the cleared counters, so conservation holds from the first purchase after the reset.
  Creates the SKU (named after itself, price 0) when it does not exist.

  KEYS[1] stock        string, units left
  KEYS[2] product      hash
  KEYS[3] buyers       hash, deleted (per-user limits start again)
  KEYS[4] idempotency  hash, deleted

  ARGV[1] amount       integer >= 0, the new stock
  ARGV[2] name         name to give the SKU if it has none
  ARGV[3] channel      restock channel: the SKU is published there once the new stock is written
  ARGV[4] sku          the message

  Returns 1 if the SKU was created, 0 if it existed

  The order log (stream) is kept: orders not yet in PostgreSQL must reach it, and a stream that lives on
  never issues an entry id twice. The new sale's orders are told apart by `sale`, which every order
  carries: the time of the reset in milliseconds, always above the sale before it, so that a sale
  number is never reused for a SKU, even after Redis lost its data and the clock moved on.

  The PUBLISH is part of the script, after the writes: a subscriber cannot hear of the restock before
  it is committed, and no restock can commit without its message (as it could if the caller published
  afterwards and died, or timed out, in between). Every instance drops its sold-out mark on it.
]]
local created = redis.call('EXISTS', KEYS[2]) == 0 and 1 or 0
local previous = tonumber(redis.call('HGET', KEYS[2], 'sale') or '0') or 0
local time = redis.call('TIME')
local sale = math.max(tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000), previous + 1)

redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'initial', ARGV[1], 'sold', 0, 'orders', 0, 'sale', string.format('%d', sale))
if created == 1 then
  redis.call('HSET', KEYS[2], 'name', ARGV[2], 'price', '0', 'perUserLimit', 0)
end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return created
