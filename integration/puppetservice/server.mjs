// A real Wechaty puppet service over a scripted PuppetMock world, for the
// puppet/wechatyservice integration tests.
//
// Environment:
//   TOKEN  the token clients must present (required)
//   PORT   the port to listen on, on 127.0.0.1 only (default 0: any free port)
//   SELF   the bot's own contact ID (default "bot")
//   PEERS  comma-separated contact IDs of other bots that share the room
//   TLS    "on": speak TLS, with the certificate and key that
//          WECHATY_PUPPET_SERVICE_TLS_SERVER_CERT/_KEY hold (PEM; the
//          server reads them itself), else wechaty-puppet-service's default
//          one; otherwise plaintext
//
// The world: contacts "alice" and "bob", the heartbeat official account
// gh_051c89260e5d (it answers "dong" to "ding"), "carol", a contact the
// service lists but who is not the bot's friend, and the room
// "room-ha@chatroom" with the bot, alice, bob and PEERS. Every start of the
// puppet scans (a QR code waiting) and logs in as SELF.
//
// Protocol with the test, one JSON object per line:
//   stdout  {"event":"ready","port":N,"self":…,"contact":…,"room":…,"heartbeat":…}
//           {"event":"delivered","id":…,"from":…,"to":…,"text":…}   the bot sent a message
//           {"event":"login"|"logout","self":…}
//           media the bot sent add "kind" ("image", "file", "url", "contact")
//           and "file" {name, base64}, "url" {url, title, …} or "contact";
//           a file the bot uploaded first (a UUID box) comes as "file"
//           {name, uuid, size, sha256}, read back from the server's store
//   stdin   {"cmd":"post","from":…,"room":…,"text":…,"id":…}       a contact writes to
//           the bot (room empty) or to a room; id is optional; with "kind"
//           and "file", "url" or "contact" it posts media instead of text
//           {"cmd":"befriend","contact":…}   the contact becomes the bot's
//           friend: a confirmed friendship event; stdout {"event":"befriended"}
//           {"cmd":"scan","status":N,"qrcode":…}   the puppet emits a scan event
//           (wechaty-puppet ScanStatus N)
// SIGTERM or SIGINT stops the server; so does the end of stdin.

import readline from 'node:readline'
import { createHash } from 'node:crypto'
import { PuppetServer } from 'wechaty-puppet-service'
import { PuppetMock, mock } from 'wechaty-puppet-mock'

const MESSAGE_TYPE_TEXT = 7 // wechaty-puppet types.Message.Text
// wechaty-puppet types.Message for media, and back
const MESSAGE_TYPES = { image: 6, file: 1, url: 14, contact: 3 }
const KINDS = { 6: 'image', 1: 'file', 14: 'url', 3: 'contact', 0: 'file' }
const SCAN_STATUS_WAITING = 2 // wechaty-puppet types.ScanStatus.Waiting
const FRIENDSHIP_TYPE_CONFIRM = 1 // wechaty-puppet types.Friendship.Confirm
const FILEBOX_TYPE_UUID = 7 // file-box FileBoxType.Uuid

const HEARTBEAT = 'gh_051c89260e5d'
const ROOM = 'room-ha@chatroom'

const token = process.env.TOKEN
if (!token) {
  console.error('server.mjs: TOKEN is required')
  process.exit(2)
}
const port = Number(process.env.PORT || '0')
const self = process.env.SELF || 'bot'
const peers = (process.env.PEERS || '').split(',').filter(Boolean)

const emit = obj => process.stdout.write(JSON.stringify(obj) + '\n')

const mocker = new mock.Mocker()
mocker.use(m => {
  // Runs on every start of the puppet: a QR code, then the login.
  m.scan('https://github.com/wechaty/wechaty-puppet-mock', SCAN_STATUS_WAITING)
  m.login(m.ContactMock.load(self))
  return () => {}
})
const puppet = new PuppetMock({ mocker })

// The world, created once for the life of the process.
mocker.createContact({ id: self, name: `Bot ${self}` })
mocker.createContact({ id: 'alice', name: 'Alice' })
mocker.createContact({ id: 'bob', name: 'Bob' })
mocker.createContact({ id: 'carol', name: 'Carol', friend: false })
for (const peer of peers) {
  mocker.createContact({ id: peer, name: `Bot ${peer}` })
}
const heartbeat = mocker.createContact({ id: HEARTBEAT, name: 'ChatieIO', type: 2 /* Official */ })
heartbeat.on('message', msg => {
  if (msg.talker().id === self && msg.text() === 'ding') {
    setImmediate(() => heartbeat.say('dong').to(mocker.ContactMock.load(self)))
  }
})
mocker.createRoom({
  id: ROOM,
  topic: 'HA room',
  memberIdList: [self, 'alice', 'bob', ...peers],
})

// A file the bot uploaded (Upload) and then sent as a UUID box: PuppetMock
// keeps only the box's JSON, so read the bytes back from the server's
// store as the send arrives, and report their size and SHA-256.
const uploads = new Map() // uuid -> { size, sha256 }
const sendFile = puppet.messageSendFile.bind(puppet)
puppet.messageSendFile = async (conversationId, fileBox) => {
  if (fileBox.type === FILEBOX_TYPE_UUID) {
    const bytes = await fileBox.toBuffer()
    uploads.set(fileBox.uuid, { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') })
  }
  return sendFile(conversationId, fileBox)
}

puppet.on('message', ({ messageId }) => {
  const p = mocker.messagePayload(messageId)
  if (p.talkerId === self) {
    const d = { event: 'delivered', id: p.id, from: p.talkerId, to: p.roomId || p.listenerId, text: p.text }
    const box = mocker.cacheFileBoxPayload.get(p.id) // a file the bot sent
    if (box) {
      const file = { name: box.name, base64: box.base64, url: box.url }
      if (box.uuid) {
        Object.assign(file, { uuid: box.uuid }, uploads.get(box.uuid))
        uploads.delete(box.uuid)
      }
      Object.assign(d, { kind: KINDS[p.type] || 'file', file })
    }
    emit(d)
  }
})

// PuppetMock takes link and contact card sends without doing anything:
// record what the service handed it, as a delivery. Media messages posted
// by the test answer their own MessageUrl and MessageContact.
const posted = new Map()
for (const [method, kind, field] of [['messageSendUrl', 'url', 'url'], ['messageSendContact', 'contact', 'contact']]) {
  const original = puppet[method].bind(puppet)
  puppet[method] = async (conversationId, payload) => {
    emit({ event: 'delivered', from: self, to: conversationId, kind, [field]: payload })
    return original(conversationId, payload)
  }
}
for (const [method, field] of [['messageUrl', 'url'], ['messageContact', 'contact']]) {
  const original = puppet[method].bind(puppet)
  puppet[method] = async id => posted.get(id)?.[field] ?? original(id)
}
puppet.on('login', ({ contactId }) => emit({ event: 'login', self: contactId }))
puppet.on('logout', ({ contactId }) => emit({ event: 'logout', self: contactId }))

// befriend makes contact the bot's friend, as a confirmed friend request:
// its payload says friend, and a friendship event of type Confirm follows.
async function befriend ({ contact }) {
  mocker.contactPayload(contact).friend = true
  await puppet.contactPayloadDirty(contact)
  const id = `friendship-${contact}-${++seq}`
  await puppet.friendshipPayload(id, { id, contactId: contact, hello: '', timestamp: Date.now(), type: FRIENDSHIP_TYPE_CONFIRM })
  puppet.emit('friendship', { friendshipId: id })
  emit({ event: 'befriended', contact })
}

let seq = 0
function post ({ from, room, text, id, kind, file, url, contact }) {
  const payload = {
    id: id || `post-${process.pid}-${++seq}`,
    talkerId: from,
    text,
    timestamp: Date.now(),
    type: kind ? MESSAGE_TYPES[kind] : MESSAGE_TYPE_TEXT,
  }
  if (file) {
    // FileBox JSON of a base64 box, as file-box writes it
    mocker.cacheFileBoxPayload.set(payload.id, { type: 1, boxType: 1, name: file.name, base64: file.base64 })
  }
  if (url || contact) {
    posted.set(payload.id, { url, contact })
  }
  if (room) {
    payload.roomId = room
    payload.mentionIdList = []
  } else {
    payload.listenerId = self
  }
  mocker.MessageMock.create(payload)
  puppet.emit('message', { messageId: payload.id })
}

const server = new PuppetServer({
  endpoint: `127.0.0.1:${port}`,
  puppet,
  token,
  tls: { disable: process.env.TLS !== 'on' },
})

let stopping = false
async function stop (code) {
  if (stopping) return
  stopping = true
  try {
    await server.stop()
    if (puppet.state.active()) await puppet.stop()
  } finally {
    process.exit(code)
  }
}
process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))

await server.start()
// grpc-js (pinned by the lock file) keeps its listeners in http2Servers.
const bound = port || [...(server.grpcServer?.http2Servers?.keys() ?? [])]
  .map(s => s.address()?.port).find(Boolean)
if (!bound) {
  console.error('server.mjs: cannot tell the bound port; pass PORT')
  await stop(3)
}

readline.createInterface({ input: process.stdin }).on('line', line => {
  if (!line.trim()) return
  try {
    const cmd = JSON.parse(line)
    if (cmd.cmd === 'post') post(cmd)
    else if (cmd.cmd === 'befriend') {
      befriend(cmd).catch(e => emit({ event: 'error', error: String(e && e.message ? e.message : e) }))
    }
    else if (cmd.cmd === 'scan') {
      puppet.emit('scan', { qrcode: cmd.qrcode || '', status: cmd.status })
    }
    else if (cmd.cmd === 'hang') {
      puppet.messageSendText = () => new Promise(() => {})
      emit({ event: 'hung' }) // the test waits for this before it sends
    }
    else throw new Error(`unknown cmd ${JSON.stringify(cmd.cmd)}`)
  } catch (e) {
    emit({ event: 'error', error: String(e && e.message ? e.message : e) })
  }
}).on('close', () => stop(0))

emit({ event: 'ready', port: bound, self, contact: 'alice', room: ROOM, heartbeat: HEARTBEAT })
