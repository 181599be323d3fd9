--[[
  Create or update a product. Its stock becomes the units left to sell now; units already sold stay
  in the order log and are counted in `initial`, so that initial = stock + sold keeps holding.

  KEYS[1] stock    string, units left
  KEYS[2] product  hash: name, price, initial, sold, perUserLimit

  ARGV[1] name
  ARGV[2] price          decimal string
  ARGV[3] stock          integer >= 0
  ARGV[4] perUserLimit   integer >= 0 (0 = no limit)
  ARGV[5] onlyIfMissing  '1' to leave an existing product untouched (start-up seeding of the default SKU)
  ARGV[6] channel        restock channel: the SKU is published there once the new stock is written
  ARGV[7] sku            the message

  Returns 1 if the product was created, 0 if it was updated (or left alone)

  The PUBLISH comes after the writes, inside the script: see reset-stock-5.lua.
]]
local exists = redis.call('EXISTS', KEYS[2]) == 1
if exists and ARGV[5] == '1' then
  return 0
end
local sold = tonumber(redis.call('HGET', KEYS[2], 'sold') or '0')
redis.call('SET', KEYS[1], ARGV[3])
redis.call('HSET', KEYS[2], 'name', ARGV[1], 'price', ARGV[2], 'perUserLimit', ARGV[4],
  'initial', tonumber(ARGV[3]) + sold, 'sold', sold)
redis.call('PUBLISH', ARGV[6], ARGV[7])
return exists and 0 or 1
