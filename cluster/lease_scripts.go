package cluster

import "github.com/redis/go-redis/v9"

// The lease scripts. Every key a script touches is passed in KEYS and
// carries the pool's hash tag ({P}, see Keys), so that the script runs on
// one shard of a Redis Cluster.
//
// KEYS[1] = {P}:lease:bot  "node|token", PX = the lease
// KEYS[2] = {P}:fence:bot  the highest token ever granted; never deleted
// KEYS[3] = {P}:quiet:bot  present (PX) while no grant may be made
// KEYS[4] = {P}:offer:bot  present (PX) while a handover reserves the bot for one node

// grantLua grants a free bot. ARGV[1] = node, ARGV[2] = lease in ms.
//
// Replies {"OK", token}, {"HELD", "node|token", pttl} when another node
// (or an earlier life of this one) holds it, {"QUIET", "", pttl} during the
// quiet period, {"OFFERED", node, pttl} while a handover reserves it for
// another node.
//
// The epoch rule: a fence key is never deleted, so a missing one means the
// bot was never granted, or Redis lost its data. Nobody can tell the two
// apart, so the grant that finds it missing creates it and the quiet key,
// and refuses: no grant for one lease, by which time every holder from
// before a loss has stopped by its own clock. The new fence starts from
// the server's clock in microseconds, so tokens keep growing across a
// loss as long as that clock does not go back.
const grantLua = `
local held = redis.call('GET', KEYS[1])
if held then
  return {'HELD', held, redis.call('PTTL', KEYS[1])}
end
local offer = redis.call('GET', KEYS[4])
if offer and offer ~= ARGV[1] then
  return {'OFFERED', offer, redis.call('PTTL', KEYS[4])}
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[2], t[1] .. string.format('%06d', tonumber(t[2])))
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[2])
end
local quiet = redis.call('PTTL', KEYS[3])
if quiet > 0 then
  return {'QUIET', '', quiet}
end
redis.call('INCR', KEYS[2])
-- Read back as a string: a Lua number prints large integers as floats.
local token = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. token, 'PX', ARGV[2])
redis.call('DEL', KEYS[4])
return {'OK', token}
`

// renewLua extends a lease still held. ARGV[1] = "node|token", ARGV[2] =
// the lease in ms. Replies 1, or 0 when the lease is gone or someone
// else's.
const renewLua = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`

// releaseLua ends a lease held. ARGV[1] = "node|token"; ARGV[2], when not
// empty, is the node a graceful handover reserves the bot for, ARGV[3]
// how long (ms). Replies 1, or 0 when the lease was not held.
const releaseLua = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
if ARGV[2] ~= '' then
  redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
end
return 1
`

// FencePrefix is the Lua that starts every fenced write: KEYS[1] =
// {P}:lease:bot, KEYS[2] = {P}:fence:bot, ARGV[1] = "node|token", ARGV[2] =
// token. It returns an error reply starting "FENCED" unless the lease is
// still the writer's and its token the latest; the write that follows
// uses KEYS[3…] and ARGV[3…].
const FencePrefix = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then
  return redis.error_reply('FENCED lease of ' .. KEYS[1] .. ' is not ' .. ARGV[1])
end
`

// FenceScript is a fenced write to one shared key: it appends to the
// stream KEYS[3] the field-value pairs ARGV[3…] (XADD KEYS[3] * …) and
// replies the entry's ID, or fails with an error starting "FENCED". For
// another write, build a script with NewFenceScript.
//
// Under Redis Cluster, KEYS[3…] must be keys of the pool (built by Keys,
// under its hash tag {P}), or the script is refused with CROSSSLOT.
var FenceScript = NewFenceScript(`return redis.call('XADD', KEYS[3], '*', unpack(ARGV, 3))`)

// NewFenceScript returns the script FencePrefix followed by write.
func NewFenceScript(write string) *redis.Script { return redis.NewScript(FencePrefix + write) }

var (
	grantScript   = redis.NewScript(grantLua)
	renewScript   = redis.NewScript(renewLua)
	releaseScript = redis.NewScript(releaseLua)
)
