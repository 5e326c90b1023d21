// SPDX-License-Identifier: MIT
// bench/aedes/broker.js - aedes (the Node.js MQTT broker) as a peer in bench/run: an in-memory
// broker on 127.0.0.1, anonymous, default settings. Usage: node broker.js PORT. Prints
// "aedes: listening on 127.0.0.1:PORT" once it accepts connections; SIGTERM/SIGINT close it.
'use strict'
const net = require('net')
const aedes = require('aedes')()

const port = Number(process.argv[2] || 1883)
const server = net.createServer(aedes.handle)
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`aedes: listening on 127.0.0.1:${server.address().port}\n`)
})
const stop = () => {
  server.close()
  aedes.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 1000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
