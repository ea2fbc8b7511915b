// A Node Wechaty bot (wechaty 1.20.2) on its mock puppet
// (wechaty-puppet-mock 1.19.4), timing its says: the baseline that
// HAWechaty's Pool.Say is compared with (BenchmarkNodeWechatySay, make
// bench-say, make integration-nodesay).
//
// Usage: node say.mjs [--says N] [--rounds R] [--warmup W]
//
// The bot starts on a PuppetMock whose world is the bot and the contact
// "alice"; the mocker logs it in at start. Once logged in, the bot finds
// alice (Contact.find), says W messages to warm up the JIT, then times R
// rounds of N says, one after the other, each awaited before the next
// starts (as a caller of Pool.Say waits for its result). It prints one
// JSON line on stdout:
//
//   {"says":N,"rounds":R,"warmup":W,"ns_per_say":…,"cpu_ns_per_say":…,
//    "samples":[ns per say of each round],"delivered":…,"seen":…,"errors":[…],
//    "node":…,"wechaty":…}
//
// ns_per_say is the median of the rounds' wall times per say (hrtime),
// cpu_ns_per_say the median of their CPU times per say (user and system,
// all the process's threads, as BenchmarkSay's cpu-ns/op). delivered counts
// the messages the mock world received from the bot (alice's mock got a
// message from the bot), seen the bot's own messages that came back to the
// bot as "message" events; after a run both are W + R*N.
//
// What one say is, in wechaty 1.20.2 with wechaty-puppet-mock 1.19.4:
// contact.say(text) hands the text to the puppet's messageSendText (the
// sayable dispatch in wechaty's deliver-sayable). PuppetMock checks that it
// is logged in, loads the bot's and alice's mock contacts, and makes the
// message: a payload with a fresh cuid, stored in the mocker's message
// pool and payload cache (kept for the life of the process), emitted as
// "message" on the talker's and the listener's mock contact (our counter
// of deliveries listens on alice's), and then as the puppet's "message"
// event. PuppetMock returns no message id, so say resolves without
// loading the message. The puppet's "message" event runs on in Wechaty:
// Message.find (messageSearch by id, then a new Message made ready: its
// payload through wechaty-puppet's cache, its talker and listener
// contacts, cached), then the bot emits "message" (counted as seen) and so
// does the listener contact. That part runs in promise jobs that
// interleave with the following says; a round's clock stops once the bot
// has seen all the round's messages, so it pays for all of it, as
// Pool.Say's round trip pays for its reducers.
//
// Logging is at "warn": nothing is printed per say (wechaty's and the
// mock's verbose log calls still build their arguments, as in any bot).

import { parseArgs } from 'node:util'
import { WechatyBuilder, log, VERSION } from 'wechaty'
import { PuppetMock, mock } from 'wechaty-puppet-mock'

log.level('warn')

const { values } = parseArgs({
  options: {
    says: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '20000' },
  },
})
const says = positive('says', values.says)
const rounds = positive('rounds', values.rounds)
const warmup = count('warmup', values.warmup)

function count (name, s) {
  const n = Number(s)
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`say.mjs: --${name} ${s}: want a whole number`)
    process.exit(2)
  }
  return n
}

function positive (name, s) {
  const n = count(name, s)
  if (n === 0) {
    console.error(`say.mjs: --${name} ${s}: want at least 1`)
    process.exit(2)
  }
  return n
}

const SELF = 'bot'
const PEER = 'alice'

const mocker = new mock.Mocker()
mocker.use(m => {
  m.login(m.ContactMock.load(SELF))
  return () => {}
})
mocker.createContact({ id: SELF, name: 'Bot' })
const alice = mocker.createContact({ id: PEER, name: 'Alice' })

let delivered = 0
alice.on('message', msg => {
  if (msg.talker().id === SELF && msg.listener()?.id === PEER) delivered++
})

const bot = WechatyBuilder.build({ name: 'nodesay', puppet: new PuppetMock({ mocker }) })

let seen = 0
let wantSeen = 0
let caughtUp = null // resolves when seen reaches wantSeen
bot.on('message', msg => {
  if (!msg.self()) return
  seen++
  if (caughtUp && seen >= wantSeen) {
    const done = caughtUp
    caughtUp = null
    done()
  }
})
const errors = []
bot.on('error', e => errors.push(String(e)))

// allSeen resolves once the bot has seen n of its own messages.
function allSeen (n) {
  wantSeen = n
  if (seen >= n) return Promise.resolve()
  return new Promise(resolve => { caughtUp = resolve })
}

const loggedIn = new Promise(resolve => bot.once('login', resolve))
await bot.start()
await loggedIn
const contact = await bot.Contact.find({ id: PEER })
if (!contact) {
  console.error(`say.mjs: contact ${PEER} not found`)
  process.exit(1)
}

for (let i = 0; i < warmup; i++) {
  await contact.say('hi')
}
await allSeen(warmup)

const samples = []
const cpuSamples = []
for (let r = 0; r < rounds; r++) {
  const before = seen
  const cpu = process.cpuUsage()
  const start = process.hrtime.bigint()
  for (let i = 0; i < says; i++) {
    await contact.say('hi')
  }
  await allSeen(before + says)
  const ns = process.hrtime.bigint() - start
  const used = process.cpuUsage(cpu) // microseconds
  samples.push(Number(ns) / says)
  cpuSamples.push((used.user + used.system) * 1000 / says)
}

await bot.stop()

function median (xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const round = x => Math.round(x * 10) / 10
process.stdout.write(JSON.stringify({
  says,
  rounds,
  warmup,
  ns_per_say: round(median(samples)),
  cpu_ns_per_say: round(median(cpuSamples)),
  samples: samples.map(round),
  delivered,
  seen,
  errors: errors.slice(0, 5),
  node: process.version,
  wechaty: VERSION,
}) + '\n')
process.exit(errors.length ? 1 : 0)
